package build.rex.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Runs each server as a child JVM from the jars the build made (the default). */
final class JvmRuntime implements ServerRuntime {
  private final Path home;
  /** Each server's class data archive, published when that server exits. */
  private final Map<String, ClassDataArchive> archives = new java.util.concurrent.ConcurrentHashMap<>();

  JvmRuntime(Path home) {
    this.home = home;
  }

  @Override
  public List<String> command(Component component, String name, Path config) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path jar = home.resolve(component.id + "-image/target/rex-" + component.id + ".jar");
    List<String> command = new java.util.ArrayList<>(List.of(java));
    command.addAll(flags(component));
    command.addAll(jitFlags(component, config.resolveSibling(JIT_DIRECTIVES_FILE)));
    ClassDataArchive archive = ClassDataArchive.of(jar, name);
    archives.put(name, archive);
    command.addAll(archive.flags());
    command.addAll(List.of("-jar", jar.toString(), "--config", config.toString()));
    return command;
  }

  static final String JIT_DIRECTIVES_FILE = "jit-directives.json";

  /**
   * A local cluster lives for a few builds, too short for C2 to pay for itself. The worker hashes
   * every blob it stores, so C2 compiles the JDK's SHA-256 code there, whose intrinsics hash
   * about ten times faster than C1's code can; every other method stops at C1's optimized tier
   * once C2 refuses it. Measured on the benchmark's workspace, 2 cores, 2 alternating pairs of 4
   * cold builds on a fresh cluster each: server CPU of the second build 8.6 and 9.3 s against
   * 11.4 and 10.5 s with the images' policy, peak RSS 221-233 MiB (scheduler) against 245. The
   * images keep that policy (pom.xml): a pod runs for days, and C2's code serves sustained load
   * better (GetActionResult at 64 callers: 22,000 calls/s against 15,000).
   */
  static final String QUICK_JIT_DIRECTIVES = """
      [
        { match: ["sun/security/provider/*.*"], c2: { Exclude: false } },
        { match: ["*.*"], c2: { Exclude: true } }
      ]
      """;

  /**
   * The JIT flags of a local server. The scheduler hashes nothing on its path (the workers verify
   * what they store), so it needs no C2 at all: C1 alone compiles each hot method once, straight
   * to its optimized tier, where the worker's policy first runs C1's slower profiling code and
   * compiles the method again when C2 refuses it. bench/run --only builds --systems rex --rounds 2,
   * two alternating pairs against the worker's policy for both: server CPU of a cold build 6.28
   * and 6.75 s against 7.72 and 8.27, the build 15.0 and 15.1 s against 15.9 and 16.2, scheduler
   * peak RSS 202 and 199 MiB against 225 and 221. The worker writes {@code directives} and loads
   * them.
   */
  static List<String> jitFlags(Component component, Path directives) throws IOException {
    if (component == Component.SCHEDULER) {
      return List.of("-XX:TieredStopAtLevel=1");
    }
    Files.writeString(directives, QUICK_JIT_DIRECTIVES);
    return List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:CompilerDirectivesFile=" + directives);
  }

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
    List<String> flags = new java.util.ArrayList<>(List.of("-XX:+UseSerialGC", "-Xss512k",
        "-XX:+ExitOnOutOfMemoryError"));
    if (component == Component.SCHEDULER) {
      // The scheduler keeps recent blobs and results in memory (cas.memoryCacheSize, the job
      // table) and replaces them all the time, so its old generation fills with garbage. Packed
      // to 10% free it was collected in full 3-5 times a cold build, 0.16-0.26 s of GC; with 25%
      // free 1-2 times, 0.09-0.13 s, for peak RSS 196-215 MiB against 186-206 (two cold builds
      // each on 3 clusters before, 2 after; 2026-12-04). 40% free halved GC again but took RSS
      // to 242 MiB, near the 256 budget.
      flags.addAll(List.of("-XX:MinHeapFreeRatio=25", "-XX:MaxHeapFreeRatio=50", "-Xms32m", "-Xmx160m"));
    } else {
      flags.addAll(List.of("-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30", "-Xms32m", "-Xmx224m"));
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

  @Override
  public void exited(String name) {
    ClassDataArchive archive = archives.get(name);
    if (archive == null) {
      return;
    }
    try {
      archive.publish();
    } catch (IOException e) {
      System.err.println("rex local: could not keep the class data archive of " + name + " (" + e
          + "); the next start writes it again");
    }
  }
}
