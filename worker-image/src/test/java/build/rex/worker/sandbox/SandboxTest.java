package build.rex.worker.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each isolation layer, proven where the kernel allows it; the layers that are not available
 * here are printed and their tests skipped with the reason.
 */
class SandboxTest {
  private static Path dir;
  private static Sandbox sandbox;

  @BeforeAll
  static void probe() throws IOException {
    // World-traversable, as a worker's data folder is: the sandbox user must reach it.
    dir = Files.createTempDirectory(Path.of("/tmp"), "rex-sandbox-test",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    sandbox = Sandbox.probe(new Sandbox.Settings(true, "nobody", 64, 1024, Path.of("/sys/fs/cgroup"),
        dir.resolve("bin"))).requireAccess(dir);
    System.out.println("sandbox layers available: " + sandbox.availableLayers());
    System.out.println("sandbox layers NOT available here (their tests are skipped): " + sandbox.unavailableLayers());
  }

  @AfterAll
  static void cleanUp() throws IOException {
    sandbox.close();
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static void requireLayer(String layer) {
    Assumptions.assumeTrue(sandbox.availableLayers().contains(layer),
        "SKIPPED: sandbox layer '" + layer + "' is not available here: " + sandbox.unavailableLayers().get(layer));
  }

  /** Runs {@code sh -c script} in a fresh folder; returns exit code and output. */
  private static Result run(String script, Sandbox.Limits limits) throws Exception {
    Path work = Files.createTempDirectory(dir, "action");
    sandbox.handOver(work);
    Path out = dir.resolve(work.getFileName() + ".out");
    try (Sandbox.Prepared prepared = sandbox.prepare(work.getFileName().toString(), "executor-0",
        new ArrayList<>(List.of("/bin/sh", "-c", script)), limits)) {
      SandboxedProcess process = prepared.start(java.util.Map.of("PATH", "/usr/bin:/bin"), work, out, out);
      assertTrue(process.waitFor(60_000), "the action ended");
      boolean oom = prepared.cgroup() != null && prepared.cgroup().outOfMemory();
      return new Result(process.exitValue(), Files.readString(out), oom,
          prepared.cgroup() == null ? null : prepared.cgroup().usage());
    }
  }

  record Result(int exitCode, String output, boolean outOfMemory, ResourceUse usage) {}

  private static final Sandbox.Limits DEFAULT = new Sandbox.Limits(1, 256L << 20, false);

  @Test
  void actionsRunAsTheUnprivilegedUser() throws Exception {
    requireLayer("unprivileged user");
    Result result = run("id -u", DEFAULT);
    assertEquals(Integer.toString(sandbox.uid()), result.output().trim());
    assertNotEquals("0", result.output().trim());
  }

  @Test
  void actionsCannotWriteToCachedInputs() throws Exception {
    requireLayer("unprivileged user");
    Path cached = Files.writeString(dir.resolve("cas-blob"), "cached\n");
    Files.setPosixFilePermissions(cached, PosixFilePermissions.fromString("r--r--r--"));
    Path work = Files.createTempDirectory(dir, "inputs");
    Files.createLink(work.resolve("in.txt"), cached);
    sandbox.handOver(work);
    try (Sandbox.Prepared prepared = sandbox.prepare("inputs", "executor-0", List.of("/bin/sh", "-c",
        "echo tampered >> in.txt; chmod u+w in.txt; echo tampered >> in.txt"), DEFAULT)) {
      assertTrue(prepared.start(java.util.Map.of(), work, work.resolve("out"), work.resolve("err")).waitFor(30_000));
    }
    assertEquals("cached\n", Files.readString(cached), "the cached blob is unchanged");
  }

  @Test
  void actionsSeeNoNetworkUnlessAllowed() throws Exception {
    requireLayer("network namespace");
    try (ServerSocket listener = new ServerSocket(0)) {
      String connect = "exec 3<>/dev/tcp/127.0.0.1/" + listener.getLocalPort() + " && echo connected";
      Result denied = run("bash -c '" + connect + "'", DEFAULT);
      assertNotEquals(0, denied.exitCode(), denied.output());
      Result allowed = run("bash -c '" + connect + "'", new Sandbox.Limits(1, 256L << 20, true));
      assertEquals(0, allowed.exitCode(), allowed.output());
    }
  }

  @Test
  void actionsCannotExceedTheirMemoryLimit() throws Exception {
    requireLayer("cgroups");
    Result result = run("x=$(head -c 200000000 /dev/zero | tr '\\000' a); echo ${#x}", new Sandbox.Limits(1, 64L << 20, false));
    assertNotEquals(0, result.exitCode(), "killed: " + result.output());
    assertTrue(result.outOfMemory(), "the memory cgroup recorded the limit being hit: exit " + result.exitCode() + " " + result.output());
  }

  @Test
  void forkBombsHitThePidsLimit() throws Exception {
    requireLayer("cgroups");
    Result result = run("i=0; while [ $i -lt 200 ]; do sleep 2 & i=$((i+1)); done; wait; echo spawned", DEFAULT);
    assertTrue(result.output().contains("fork") || result.output().contains("Resource temporarily unavailable")
        || result.exitCode() != 0, "forks beyond the pids limit fail: " + result.output());
  }

  @Test
  void theCommandGetsExactlyItsArgumentsAndItsExitCodeComesBack() throws Exception {
    Assumptions.assumeFalse(sandbox.availableLayers().isEmpty(), "SKIPPED: no sandbox layer works here");
    Path work = Files.createTempDirectory(dir, "arguments");
    sandbox.handOver(work);
    try (Sandbox.Prepared prepared = sandbox.prepare("arguments", "executor-0", List.of("/bin/sh", "-c",
        "printf '%s|' \"$@\"; exit 3", "name", "a b", "", "*", "--", "--uid"), DEFAULT)) {
      // The helper run as a program (as the probe runs it)...
      Process process = new ProcessBuilder(prepared.argv()).directory(work.toFile()).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes());
      assertTrue(process.waitFor(30, TimeUnit.SECONDS));
      assertEquals(3, process.exitValue(), output);
      assertEquals("a b||*|--|--uid|", output);
      // ...and forked by its server (as actions run), with exactly the environment given.
      Path out = work.resolve("served.out");
      SandboxedProcess served = prepared.start(java.util.Map.of("ONLY", "this"), work, out, out);
      assertTrue(served.waitFor(30_000));
      assertEquals(3, served.exitValue());
      assertEquals("a b||*|--|--uid|", Files.readString(out));
    }
    Path env = Files.createTempDirectory(dir, "environment");
    sandbox.handOver(env);
    try (Sandbox.Prepared prepared = sandbox.prepare("environment", "executor-0",
        List.of("/usr/bin/env"), DEFAULT)) {
      SandboxedProcess served = prepared.start(java.util.Map.of("ONLY", "this"), env, env.resolve("o"), env.resolve("e"));
      assertTrue(served.waitFor(30_000));
      assertEquals("ONLY=this\n", Files.readString(env.resolve("o")));
    }
  }

  @Test
  void aKilledCommandEndsWithEverythingItStarted() throws Exception {
    Assumptions.assumeFalse(sandbox.availableLayers().isEmpty(), "SKIPPED: no sandbox layer works here");
    Path work = Files.createTempDirectory(dir, "killed");
    sandbox.handOver(work);
    try (Sandbox.Prepared prepared = sandbox.prepare("killed", "executor-0",
        List.of("/bin/sh", "-c", "sleep 300 & echo $! > child; wait"), DEFAULT)) {
      SandboxedProcess process = prepared.start(java.util.Map.of(), work, work.resolve("o"), work.resolve("e"));
      Path child = work.resolve("child");
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (!(Files.exists(child) && !Files.readString(child).isBlank()) && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(Files.exists(child), "the command started its child");
      assertFalse(process.waitFor(0), "the command runs until it is killed");
      process.kill();
      assertTrue(process.waitFor(30_000), "the command ended when killed");
      assertEquals(137, process.exitValue(), "killed by SIGKILL");
      // The child's pid is in the action's PID namespace when that layer is there; what matters is
      // that no sleep 300 is left on the machine that belongs to this run.
      deadline = System.nanoTime() + 30_000_000_000L;
      while (sleepsOf(work) > 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(0, sleepsOf(work), "the command's child died with it");
    }
  }

  /** Processes still running whose working directory is {@code folder}. */
  private static long sleepsOf(Path folder) {
    return ProcessHandle.allProcesses().filter(p -> {
      try {
        return Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd")).equals(folder);
      } catch (IOException | UnsupportedOperationException e) {
        return false;
      }
    }).count();
  }

  @Test
  void rlimitsForbidCoreFilesAndCapOpenFiles() throws Exception {
    requireLayer("rlimits");
    Result result = run("echo $(ulimit -c) $(ulimit -n)", DEFAULT);
    assertEquals("0 1024", result.output().trim());
  }

  @Test
  void pidNamespaceHidesTheHostsProcesses() throws Exception {
    requireLayer("pid+mount namespaces");
    Result result = run("ls /proc | grep -c '^[0-9]'", DEFAULT);
    assertTrue(Integer.parseInt(result.output().trim()) < 10, "only the action's own processes: " + result.output());
  }

  @Test
  void cgroupsReportResourceUse() throws Exception {
    requireLayer("cgroups");
    Result result = run("i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done", DEFAULT);
    assertEquals(0, result.exitCode());
    assertTrue(result.usage().userCpu().toMillis() + result.usage().systemCpu().toMillis() > 0, result.usage().toString());
    assertTrue(result.usage().peakMemoryBytes() > 0, result.usage().toString());
  }
}
