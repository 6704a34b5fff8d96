package build.rex.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Bazel 4.2.3 with --remote_executor against {@code bin/rex local}: every action runs on
 * rex's worker, outputs (incl. a tree artifact and a symlink) are byte-identical to a local
 * build, a failing test fails, a test past its timeout times out, and after a clean the
 * rebuild is all remote cache hits.
 */
class BazelRemoteExecutionTest {
  @TempDir static Path scratch;
  private static Bazel remote;
  private static Bazel local;

  @BeforeAll
  static void requireBazel() throws Exception {
    Bazel.assumeInstalled();
    remote = new Bazel(scratch.resolve("remote"));
    local = new Bazel(scratch.resolve("local"));
  }

  @AfterAll
  static void stopBazel() throws Exception {
    for (Bazel bazel : new Bazel[] {remote, local}) {
      if (bazel != null) {
        bazel.shutdown();
      }
    }
  }

  private static Bazel.Run run(Bazel bazel, String remoteFlag, String... args) throws Exception {
    return bazel.runAgainst(remoteFlag, args);
  }

  @Test
  void bazelRunsEveryActionOnRexWorkers() throws Exception {
    Bazel.Run localBuild = run(local, "--spawn_strategy=local", "build", "//...");
    assertEquals(0, localBuild.exitCode(), localBuild.output());
    Map<String, String> localOutputs = local.outputHashes();

    try (RexLocal cluster = RexLocal.start(scratch.resolve("rex-data"))) {
      String executor = "--remote_executor=" + cluster.target();
      Bazel.Run build = run(remote, executor, "build", "//...");
      assertEquals(0, build.exitCode(), build.output());
      Map<String, Integer> processes = build.processes();
      assertTrue(processes.getOrDefault("remote", 0) >= 10, "actions ran remotely: " + processes);
      assertTrue(Set.of("remote", "internal").containsAll(processes.keySet()), "nothing ran locally: " + processes);
      Map<String, String> remoteOutputs = remote.outputHashes();
      assertTrue(remoteOutputs.containsKey("exec/tree/sub/b.txt") && remoteOutputs.containsKey("exec/linked.link"),
          remoteOutputs.toString());
      assertEquals(localOutputs, remoteOutputs, "remote outputs are byte-identical to a local build");

      Bazel.Run tests = run(remote, executor, "test", "//...");
      assertEquals(0, tests.exitCode(), tests.output());

      Bazel.Run failing = run(remote, executor, "test", "//exec:failing_test");
      assertEquals(3, failing.exitCode(), "a failing test fails the build:\n" + failing.output());
      assertTrue(failing.output().contains("//exec:failing_test") && failing.output().contains("FAILED"), failing.output());

      Bazel.Run slow = run(remote, executor, "test", "//exec:slow_test", "--test_timeout=3");
      assertEquals(3, slow.exitCode(), slow.output());
      assertTrue(slow.output().contains("TIMEOUT"), "a test past its timeout is reported as a timeout:\n" + slow.output());

      assertEquals(0, remote.run("clean").exitCode());
      Bazel.Run rebuild = run(remote, executor, "build", "//...");
      assertEquals(0, rebuild.exitCode(), rebuild.output());
      Map<String, Integer> cached = rebuild.processes();
      assertTrue(Set.of("remote cache hit", "internal").containsAll(cached.keySet()), "all cache hits: " + cached);
      assertEquals(remoteOutputs, remote.outputHashes());
    }
  }
}
