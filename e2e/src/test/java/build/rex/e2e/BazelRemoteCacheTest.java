package build.rex.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Bazel 4.2.3 against a cluster started by {@code bin/rex local}: a clean rebuild is all
 * remote cache hits with byte-identical outputs, also after the whole cluster was restarted.
 */
class BazelRemoteCacheTest {
  @TempDir static Path scratch;
  private static Bazel bazel;

  @BeforeAll
  static void requireBazel() throws Exception {
    Bazel.assumeInstalled();
    bazel = new Bazel(scratch);
  }

  @AfterAll
  static void stopBazel() throws Exception {
    if (bazel != null) {
      bazel.shutdown();
    }
  }

  private static Bazel.Run buildAndTest(RexLocal cluster) throws Exception {
    List<String> args = new ArrayList<>(List.of("test", "//:all"));
    args.addAll(Bazel.flags("--remote_cache=" + cluster.target()));
    args.add("--spawn_strategy=local");
    Bazel.Run run = bazel.run(args.toArray(String[]::new));
    assertEquals(0, run.exitCode(), run.output());
    return run;
  }

  private static void assertAllRemoteCacheHits(Bazel.Run run) {
    Map<String, Integer> processes = run.processes();
    assertTrue(processes.getOrDefault("remote cache hit", 0) >= 8, "expected remote cache hits: " + processes);
    assertTrue(Set.of("remote cache hit", "internal").containsAll(processes.keySet()),
        "every action must be a remote cache hit, got " + processes + "\n" + run.output());
  }

  @Test
  void cleanRebuildIsAllRemoteCacheHitsAndSurvivesAClusterRestart() throws Exception {
    Path data = scratch.resolve("rex-data");
    Map<String, String> firstOutputs;
    try (RexLocal cluster = RexLocal.start(data)) {
      Bazel.Run first = buildAndTest(cluster);
      assertTrue(first.processes().getOrDefault("local", 0) > 0, "the first build runs actions: " + first.processes());
      firstOutputs = bazel.outputHashes();
      assertTrue(firstOutputs.containsKey("big.bin") && firstOutputs.containsKey("greet"), firstOutputs.toString());

      assertEquals(0, bazel.run("clean").exitCode());
      Bazel.Run rebuild = buildAndTest(cluster);
      assertAllRemoteCacheHits(rebuild);
      assertEquals(firstOutputs, bazel.outputHashes(), "outputs from the cache are byte-identical");

      List<ProcessHandle> servers = cluster.servers();
      assertEquals(2, servers.size(), "one scheduler and one worker process");
      assertEquals(0, cluster.stop());
      servers.forEach(server -> assertFalse(server.isAlive(), "SIGTERM stops every process it started"));
    }

    try (RexLocal restarted = RexLocal.start(data)) {
      assertEquals(0, bazel.run("clean").exitCode());
      assertAllRemoteCacheHits(buildAndTest(restarted));
      assertEquals(firstOutputs, bazel.outputHashes());

      RexLocal second = RexLocal.startOn(restarted.port + 50, data);
      assertTrue(second.launcher.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "a refused start exits at once");
      assertEquals(1, second.launcher.exitValue());
      assertTrue(second.output.toString().contains("another rex local is using"), second.output.toString());
    }
  }
}
