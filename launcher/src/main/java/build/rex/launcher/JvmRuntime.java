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
    List<String> command = new java.util.ArrayList<>(List.of(java));
    command.addAll(flags(component));
    command.addAll(List.of("-jar", jar.toString(), "--config", config.toString()));
    return command;
  }

  /**
   * C2 compiles only what is really hot (ten times the usual invocation counts): on a fresh
   * cluster the JIT otherwise spent more CPU than the actions' own bookkeeping and took it from
   * the build (rex's CPU for the second cold build of the benchmark's workspace went from 17 s to
   * 13.7 s, its wall time on 2 cores from 25 s to 22 s), while hashing and TLS loops still reach
   * C2, and its intrinsics, within their first megabytes. The images set the same (pom.xml).
   */
  static final List<String> JIT_FLAGS = List.of("-XX:Tier4InvocationThreshold=50000",
      "-XX:Tier4MinInvocationThreshold=20000", "-XX:Tier4CompileThreshold=60000", "-XX:Tier4BackEdgeThreshold=400000");

  /**
   * Memory sized for what each process does (the JVM's own default would let a heap grow to a
   * quarter of the machine's memory before collecting it): the serial collector, which keeps no
   * per-region bookkeeping and returns freed heap; a heap limit with room for a busy build. The
   * worker spawns with vfork (for the sandbox's fork server, and for every command when the
   * sandbox is off), which skips the
   * jspawnhelper program Java otherwise starts before every action's command (half the cost of
   * a spawn here); Java 25 calls vfork deprecated, so later versions, which may have removed it,
   * keep their default.
   */
  static List<String> flags(Component component) {
    List<String> flags = new java.util.ArrayList<>(List.of("-XX:+UseSerialGC", "-XX:MinHeapFreeRatio=10",
        "-XX:MaxHeapFreeRatio=30", "-Xss512k", "-XX:+ExitOnOutOfMemoryError"));
    flags.addAll(JIT_FLAGS);
    if (component == Component.SCHEDULER) {
      flags.addAll(List.of("-Xms32m", "-Xmx160m"));
    } else {
      flags.addAll(List.of("-Xms32m", "-Xmx224m"));
      if (Runtime.version().feature() <= 25) {
        flags.add("-Djdk.lang.Process.launchMechanism=VFORK");
      }
    }
    return flags;
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
