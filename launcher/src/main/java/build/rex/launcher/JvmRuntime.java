package build.rex.launcher;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Runs each server as a child JVM from the jars the build made (the default). */
final class JvmRuntime implements ServerRuntime {
  private final Path home;

  JvmRuntime(Path home) {
    this.home = home;
  }

  @Override
  public List<String> command(Component component, String name, Path config) {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path jar = home.resolve(component.id + "-image/target/rex-" + component.id + ".jar");
    return List.of(java, "-XX:+UseG1GC", "-jar", jar.toString(), "--config", config.toString());
  }

  /** The servers exit when the launcher dies, even by SIGKILL (see ServerMain). */
  @Override
  public Map<String, String> environment() {
    return Map.of("REX_PARENT_PID", Long.toString(ProcessHandle.current().pid()));
  }

  /** A killed JVM is gone, its server with it. */
  @Override
  public void killed(String name) {
  }
}
