package build.rex.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Runs each server from its container image under podman ({@code rex local --images}): the
 * images the build wrote to {@code <module>/target/image.tar}, loaded into podman's store first.
 * Containers share the host's network (the ports are the same as without images) and see the data
 * folder at its own path, so the config files need no change. They run as the launcher's user,
 * so the files they make in the data folder are that user's.
 */
final class PodmanRuntime implements ServerRuntime {
  private final Path dataDir;
  private final String prefix;
  private final Map<Component, String> images = new EnumMap<>(Component.class);

  private PodmanRuntime(Path dataDir, int port) {
    this.dataDir = dataDir;
    this.prefix = "rex-local-" + port + "-";
  }

  /** Loads the scheduler and worker images; fails with what to do when they were not built. */
  static PodmanRuntime load(Path home, Path dataDir, int port) throws IOException, InterruptedException {
    PodmanRuntime runtime = new PodmanRuntime(dataDir, port);
    for (Component component : Component.values()) {
      Path tar = home.resolve(component.id + "-image/target/image.tar");
      if (!Files.isRegularFile(tar)) {
        throw new IOException("no " + component.id + " image at " + tar
            + ": build the images where podman and debootstrap are installed (mvn -Pimages package, see docs/images.md)");
      }
      runtime.images.put(component, PodmanImage.load(tar));
    }
    return runtime;
  }

  @Override
  public List<String> command(Component component, String name, Path config) {
    List<String> command = new ArrayList<>(List.of("podman", "run", "--rm", "--replace", "--name", prefix + name,
        "--network", "host", "--volume", dataDir + ":" + dataDir));
    command.addAll(user());
    if (component == Component.WORKER) {
      // As the StatefulSet grants it: namespaces for the action sandbox.
      command.addAll(List.of("--cap-add", "SYS_ADMIN"));
    } else {
      // As the operator's pods run it (Pod Security "restricted"): no capabilities, no new
      // privileges, a read-only root with only /tmp writable.
      command.addAll(RESTRICTED);
    }
    command.addAll(List.of(images.get(component), "--config", config.toString()));
    return command;
  }

  /** podman's flags for a container held as a Pod Security "restricted" pod is. */
  static final List<String> RESTRICTED = List.of("--cap-drop", "ALL", "--security-opt", "no-new-privileges",
      "--read-only", "--tmpfs", "/tmp");

  /** The launcher's own user; rootless podman maps it into the container with keep-id. */
  private static List<String> user() {
    long uid = new com.sun.security.auth.module.UnixSystem().getUid();
    long gid = new com.sun.security.auth.module.UnixSystem().getGid();
    if (uid == 0) {
      return List.of("--user", "0:0");
    }
    return List.of("--userns", "keep-id", "--user", uid + ":" + gid);
  }

  /** podman stops the container on SIGTERM (it proxies signals) and removes it (--rm). */
  @Override
  public Map<String, String> environment() {
    return Map.of();
  }

  /** Killing the podman client leaves its container running: remove it. */
  @Override
  public void killed(String name) {
    try {
      new ProcessBuilder("podman", "rm", "--force", "--time", "0", prefix + name).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (IOException e) {
      System.err.println("rex local: could not remove container " + prefix + name + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
