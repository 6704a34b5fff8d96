package build.rex.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.remote.GrpcBlobStore;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster as separate processes ({@code bin/rex local --schedulers 2 --workers 3}, two
 * copies of every blob) under real Bazel 4.2.3 building 201 actions: losing a worker and a
 * scheduler mid-build, draining a worker mid-build, and stopping and restarting everything.
 */
class ClusterChaosTest {
  private static final String TARGET = "//chaos:everything";
  @TempDir static Path scratch;
  private static Map<String, String> localOutputs;
  private static final List<Bazel> bazels = new ArrayList<>();

  @BeforeAll
  static void buildLocally() throws Exception {
    Bazel.assumeInstalled();
    Bazel local = bazel("local");
    Bazel.Run build = run(local, "--spawn_strategy=local", "build", TARGET);
    assertEquals(0, build.exitCode(), build.output());
    localOutputs = chaosOutputs(local);
    assertEquals(201, localOutputs.size(), localOutputs.keySet().toString());
  }

  @AfterAll
  static void stopBazel() throws Exception {
    for (Bazel bazel : bazels) {
      bazel.shutdown();
    }
  }

  private static Bazel bazel(String name) throws Exception {
    Bazel bazel = new Bazel(scratch.resolve(name));
    bazels.add(bazel);
    return bazel;
  }

  private static List<String> args(String remoteFlag, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(Bazel.flags(remoteFlag));
    all.add("--jobs=32");
    return all;
  }

  private static Bazel.Run run(Bazel bazel, String remoteFlag, String... args) throws Exception {
    return bazel.run(args(remoteFlag, args).toArray(String[]::new));
  }

  private static Map<String, String> chaosOutputs(Bazel bazel) throws Exception {
    return bazel.outputHashes().entrySet().stream().filter(e -> e.getKey().startsWith("chaos/"))
        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
  }

  private static void assertCleanSuccess(Bazel.Run build) {
    assertEquals(0, build.exitCode(), build.output());
    for (String symptom : List.of("issing digest", "CacheNotFound", "Failed to fetch")) {
      assertFalse(build.output().contains(symptom), "'" + symptom + "' in Bazel's output:\n" + build.output());
    }
  }

  private static void assertAllCacheHits(Bazel bazel, String executor) throws Exception {
    assertEquals(0, bazel.run("clean").exitCode());
    Bazel.Run rebuild = run(bazel, executor, "build", TARGET);
    assertCleanSuccess(rebuild);
    Map<String, Integer> processes = rebuild.processes();
    assertEquals(201, processes.getOrDefault("remote cache hit", 0), "all cache hits: " + processes);
    assertTrue(Set.of("remote cache hit", "internal").containsAll(processes.keySet()), "all cache hits: " + processes);
    assertEquals(localOutputs, chaosOutputs(bazel));
  }

  /** The cluster every test here uses: two schedulers, three workers, two copies of every blob. */
  private static RexLocal cluster(Path data) throws Exception {
    return RexLocal.start(data, "--schedulers", "2", "--workers", "3");
  }

  private static Bazel.Running buildInBackground(Bazel bazel, String executor) throws Exception {
    return bazel.start(args(executor, "build", TARGET).toArray(String[]::new));
  }

  /** Execute calls the schedulers have answered so far (a killed one adds nothing). */
  private static double executions(RexLocal cluster) throws Exception {
    double sum = 0;
    for (int i = 0; i < 2; i++) {
      try {
        sum += RexLocal.metric(cluster.schedulerAdminPort(i), "rex_grpc_server_requests_total", "Execution/Execute");
      } catch (java.io.IOException gone) {
        // a killed scheduler counts no more
      }
    }
    return sum;
  }

  @Test
  void aBuildSurvivesLosingAWorkerAndASchedulerAndRestartsWithAllCacheHits() throws Exception {
    Path data = scratch.resolve("chaos-data");
    Bazel remote = bazel("chaos");
    try (RexLocal cluster = cluster(data)) {
      String executor = "--remote_executor=" + cluster.target();
      Bazel.Running build = buildInBackground(remote, executor);

      Await.until("worker-1 to run actions", 120,
          () -> RexLocal.metric(cluster.workerAdminPort(1), "rex_executors_busy", "") > 0 && executions(cluster) >= 20);
      cluster.server("worker-1").destroyForcibly(); // SIGKILL, mid-build
      double atWorkerKill = executions(cluster);
      Await.until("the build to go on without worker-1", 120, () -> executions(cluster) >= atWorkerKill + 20);
      // The scheduler Bazel sends its work through: the one that has seen more Execute calls.
      int busier = RexLocal.metric(cluster.schedulerAdminPort(0), "rex_grpc_server_requests_total", "Execution/Execute")
          >= RexLocal.metric(cluster.schedulerAdminPort(1), "rex_grpc_server_requests_total", "Execution/Execute") ? 0 : 1;
      cluster.server("scheduler-" + busier).destroyForcibly(); // SIGKILL, mid-build

      Bazel.Run result = build.await();
      assertCleanSuccess(result);
      assertEquals(localOutputs, chaosOutputs(remote), "outputs are byte-identical to a local build");

      // The survivors copy what worker-1 held to its new owners, and say so in their metrics.
      for (int worker : new int[] {0, 2}) {
        Await.until("worker-" + worker + " to finish re-replicating", 120, () ->
            RexLocal.metric(cluster.workerAdminPort(worker), "rex_replication_passes_total", "") >= 2
                && RexLocal.metric(cluster.workerAdminPort(worker), "rex_cas_under_replicated_blobs", "") == 0);
      }
      // Two copies, two workers left: each holds every blob.
      Await.until("both survivors to hold the same blobs", 60,
          () -> blobsOn(data.resolve("worker-0")).equals(blobsOn(data.resolve("worker-2"))));
      assertAllCacheHits(remote, executor);
      assertEquals(0, cluster.stop());
    }

    // Every process stopped; started again on the same folders, nothing is lost.
    try (RexLocal cluster = cluster(data)) {
      assertAllCacheHits(remote, "--remote_executor=" + cluster.target());
    }
  }

  @Test
  void drainingAWorkerMidBuildLosesNothing() throws Exception {
    Path data = scratch.resolve("drain-data");
    Bazel remote = bazel("drain");
    try (RexLocal cluster = cluster(data)) {
      String executor = "--remote_executor=" + cluster.target();
      Bazel.Running build = buildInBackground(remote, executor);
      Await.until("the build to be under way", 120, () -> executions(cluster) >= 30);
      String started = cluster.admin("POST", cluster.schedulerAdminPort(0), "/workers/worker-0/drain");
      assertTrue(started.contains("\"workerId\": \"worker-0\""), started);

      Bazel.Run result = build.await();
      assertCleanSuccess(result);
      assertEquals(localOutputs, chaosOutputs(remote));

      Await.until("worker-0 to report drained", 120, () -> cluster.admin("GET", cluster.schedulerAdminPort(1), "/workers")
          .matches("(?s).*\"workerId\": \"worker-0\"[^}]*\"drained\": true.*"));
      Set<Digest> held = blobsOn(data.resolve("worker-0"));
      // Drained after ~30 actions, it owns roughly two thirds of their blobs: enough for the check below to mean something.
      assertTrue(held.size() >= 20, "worker-0 held blobs: " + held.size());
      for (int other : new int[] {1, 2}) {
        ManagedChannel channel = cluster.internalChannel(cluster.workerGrpcPort(other));
        try {
          assertEquals(Set.of(), new GrpcBlobStore(channel, "worker-" + other).findMissing(held),
              "every blob of the drained worker is also on worker-" + other);
        } finally {
          channel.shutdownNow();
        }
      }
      assertAllCacheHits(remote, executor);
    }
  }

  /** The blobs in a worker's data folder, read from its files. */
  private static Set<Digest> blobsOn(Path workerDir) throws Exception {
    try (Stream<Path> files = Files.walk(workerDir.resolve("cas/sha256"))) {
      return files.filter(Files::isRegularFile).filter(f -> f.getFileName().toString().matches("[0-9a-f]{64}"))
          .map(f -> {
            try {
              return Digest.newBuilder().setHash(f.getFileName().toString()).setSizeBytes(Files.size(f)).build();
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          }).collect(Collectors.toSet());
    }
  }
}
