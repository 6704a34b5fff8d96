package build.rex.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Loads an image archive the build wrote into podman's store. */
public final class PodmanImage {
  private PodmanImage() {}

  /** {@code podman load -i tar}; returns the image's name from "Loaded image: <name>". */
  public static String load(Path tar) throws IOException, InterruptedException {
    Process load = new ProcessBuilder("podman", "load", "-q", "-i", tar.toString()).redirectErrorStream(true).start();
    String output = new String(load.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!load.waitFor(120, TimeUnit.SECONDS) || load.exitValue() != 0) {
      throw new IOException("podman load -i " + tar + " failed: " + output);
    }
    String marker = "Loaded image: ";
    int at = output.lastIndexOf(marker);
    if (at < 0) {
      throw new IOException("podman load -i " + tar + " named no image: " + output);
    }
    return output.substring(at + marker.length()).split("\\s")[0];
  }
}
