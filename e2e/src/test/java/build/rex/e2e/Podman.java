package build.rex.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** podman on this machine, and the images the build wrote to {@code <module>/target/image.tar}. */
final class Podman {
  static final Path SCHEDULER_IMAGE = RexLocal.REPO.resolve("scheduler-image/target/image.tar");
  static final Path WORKER_IMAGE = RexLocal.REPO.resolve("worker-image/target/image.tar");
  static final Path OPERATOR_IMAGE = RexLocal.REPO.resolve("operator/target/image.tar");

  private Podman() {}

  /** Why the image tests cannot run here, or null when they can. */
  static String missing() {
    try {
      if (new ProcessBuilder("podman", "--version").start().waitFor() != 0) {
        return "podman does not run";
      }
    } catch (IOException | InterruptedException e) {
      return "podman is not installed";
    }
    for (Path image : List.of(SCHEDULER_IMAGE, WORKER_IMAGE, OPERATOR_IMAGE)) {
      if (!Files.isRegularFile(image)) {
        return "no image at " + image + " (the build makes them in profile 'images' where podman is installed)";
      }
    }
    return null;
  }

  /**
   * The environment for podman commands on this kind of machine: its kernel mounts cgroups in
   * hybrid mode, which crun (podman's default runtime in Debian) refuses, and refuses to raise
   * rlimits above the machine's own, which podman's default ulimits ask for. A containers.conf
   * picks runc and lower ulimits; a machine that needs neither is not harmed by them.
   */
  static Map<String, String> environment(Path scratch) throws IOException {
    Path conf = scratch.resolve("containers.conf");
    Files.writeString(conf, """
        [containers]
        default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]
        [engine]
        runtime = "%s"
        """.formatted(Files.isExecutable(Path.of("/usr/bin/runc")) || Files.isExecutable(Path.of("/usr/sbin/runc"))
            ? "runc" : "crun"));
    return Map.of("CONTAINERS_CONF", conf.toString());
  }

  /** Names of the running containers whose name starts with {@code prefix}. */
  static List<String> running(String prefix) throws IOException, InterruptedException {
    Process ps = new ProcessBuilder("podman", "ps", "--format", "{{.Names}}", "--filter", "name=^" + prefix)
        .redirectErrorStream(true).start();
    String output = new String(ps.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    ps.waitFor();
    return output.lines().filter(line -> line.startsWith(prefix)).toList();
  }
}
