package build.rex.bench;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.Platform;
import build.rex.config.Logging;
import build.rex.storage.Digests;
import build.rex.storage.remote.GrpcBlobStore;
import build.rex.v1.ActionFinished;
import build.rex.v1.ActionStarted;
import build.rex.v1.Executor;
import build.rex.v1.ExecutorFree;
import build.rex.v1.Hello;
import build.rex.v1.SchedulerMessage;
import build.rex.v1.WorkerMessage;
import build.rex.v1.WorkerServiceGrpc;
import build.rex.worker.WorkerServer;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The cluster benchmark of docs/benchmarks.md, each figure against a baseline from the same run:
 * upload throughput with two copies of every blob against one copy; re-replication after a
 * worker loss against the upload of the same data; and dispatch with 200 simulated workers of
 * 8 executors against one such worker, with the scheduler's heap per connected worker.
 * Usage: {@code java -cp bench/target/rex-bench.jar build.rex.bench.ClusterBenchmark [workers]}.
 */
public final class ClusterBenchmark {
  private static final int BLOB = 1 << 20;
  private static final int UPLOAD_BLOBS = 256;
  private static final int EXECUTORS_PER_WORKER = 8;

  private ClusterBenchmark() {}

  public static void main(String[] args) throws Exception {
    Logging.init("warn");
    int simulatedWorkers = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    Path dir = Files.createTempDirectory("rex-cluster-bench");
    try {
      System.out.printf("rex cluster benchmark: %d cores, Java %s%n", Runtime.getRuntime().availableProcessors(),
          Runtime.version());
      replicationCost(dir);
      rereplication(dir.resolve("rereplication"));
      dispatch(dir.resolve("dispatch"), simulatedWorkers);
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static List<ByteString> blobs(int count, int size, long seed) {
    Random random = new Random(seed);
    List<ByteString> blobs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] bytes = new byte[size];
      random.nextBytes(bytes);
      blobs.add(ByteString.copyFrom(bytes));
    }
    return blobs;
  }

  /** MB/s uploading {@code blobs} through the scheduler from 8 callers. */
  private static double upload(ManagedChannel channel, List<ByteString> blobs) throws Exception {
    GrpcBlobStore cas = new GrpcBlobStore(channel, "scheduler");
    int callers = 8;
    StorageBenchmark.Latencies run = StorageBenchmark.concurrently(callers, blobs.size() / callers, (caller, i) -> {
      ByteString blob = blobs.get(caller * (blobs.size() / callers) + i);
      try {
        cas.put(Digests.of(blob), blob);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    long bytes = blobs.stream().mapToLong(ByteString::size).sum();
    return bytes / 1e6 / (run.wallNanos() / 1e9);
  }

  /** Alternates one copy and two, three rounds each, and keeps each setting's best round. */
  private static void replicationCost(Path dir) throws Exception {
    double[] best = new double[2];
    for (int round = 0; round < 3; round++) {
      for (int replicas = 1; replicas <= 2; replicas++) {
        Path data = dir.resolve("r" + replicas + "-" + round);
        try (BenchCluster cluster = new BenchCluster(data, 4L << 30, true, 3, replicas, 0, false)) {
          upload(cluster.channel, blobs(32, BLOB, 99)); // warm up
          best[replicas - 1] = Math.max(best[replicas - 1], upload(cluster.channel, blobs(UPLOAD_BLOBS, BLOB, round)));
        }
      }
    }
    System.out.printf("%-58s %8.0f MB/s (baseline)%n", "upload 256 x 1 MiB, 3 workers, 1 copy (fsync)", best[0]);
    System.out.printf("%-58s %8.0f MB/s  ratio %.2f of 1 copy%n", "upload 256 x 1 MiB, 3 workers, 2 copies (fsync)",
        best[1], best[1] / best[0]);
  }

  private static void rereplication(Path dir) throws Exception {
    try (BenchCluster cluster = new BenchCluster(dir, 4L << 30, true, 3, 2, 0, false)) {
      List<ByteString> small = blobs(20_000, 4096, 7);
      List<ByteString> large = blobs(64, BLOB, 8);
      long start = System.nanoTime();
      GrpcBlobStore cas = new GrpcBlobStore(cluster.channel, "scheduler");
      for (int from = 0; from < small.size(); from += 500) {
        java.util.Map<Digest, ByteString> batch = new java.util.HashMap<>();
        small.subList(from, Math.min(small.size(), from + 500)).forEach(b -> batch.put(Digests.of(b), b));
        cas.putBatch(batch);
      }
      for (ByteString blob : large) {
        cas.put(Digests.of(blob), blob);
      }
      double uploadSeconds = (System.nanoTime() - start) / 1e9;
      WorkerServer lost = cluster.workers.remove(2);
      long held = lost.cas().blobCount();
      List<Long> passesBefore = cluster.workers.stream().map(w -> w.replicator().passes()).toList();
      long copiesBefore = cluster.workers.stream().mapToLong(w -> w.replicator().copies()).sum();
      start = System.nanoTime();
      lost.close();
      // Done when each survivor finished a copying pass after the loss and found nothing lacking.
      while (true) {
        boolean done = true;
        for (int i = 0; i < cluster.workers.size(); i++) {
          WorkerServer w = cluster.workers.get(i);
          done &= w.replicator().passes() >= passesBefore.get(i) + 2 && w.replicator().underReplicated() == 0;
        }
        if (done) {
          break;
        }
        Thread.sleep(10);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      long copies = cluster.workers.stream().mapToLong(w -> w.replicator().copies()).sum() - copiesBefore;
      System.out.printf("%-58s %8.2f s (baseline: uploading all 20064 blobs took %.2f s)%n",
          "re-replication after losing 1 of 3 workers (" + held + " blobs held)", seconds, uploadSeconds);
      System.out.printf("%-58s %8.0f blobs/s  ratio %.2f of the upload's blobs/s%n", "  copies made: " + copies,
          copies / seconds, (copies / seconds) / (20_064 / uploadSeconds));
    }
  }

  private static void dispatch(Path dir, int workers) throws Exception {
    try (BenchCluster cluster = new BenchCluster(dir, 4L << 30, false, 1, 1, 0, false)) {
      int actions = 20_000;
      ExecutionBenchmark.NoOp noOp = new ExecutionBenchmark.NoOp(cluster.channel);
      double baseline;
      try (SimulatedWorkers one = new SimulatedWorkers(cluster.channel, 1)) {
        one.awaitConnected(cluster);
        noOp.run(500);
        baseline = rate(noOp, actions / 4);
      }
      long idleHeap = usedHeap();
      try (SimulatedWorkers many = new SimulatedWorkers(cluster.channel, workers)) {
        many.awaitConnected(cluster);
        long connectedHeap = usedHeap();
        double rate = rate(noOp, actions);
        System.out.printf("%-58s %8.0f /s (baseline)%n", "dispatch: 1 simulated worker x 8 executors", baseline);
        System.out.printf("%-58s %8.0f /s  ratio %.2f of 1 worker%n",
            "dispatch: " + workers + " simulated workers x 8 executors", rate, rate / baseline);
        System.out.printf("%-58s %8.1f MiB (%.1f KiB per worker; idle scheduler %.1f MiB)%n",
            "heap with " + workers + " workers connected", connectedHeap / 1048576.0,
            (connectedHeap - idleHeap) / 1024.0 / workers, idleHeap / 1048576.0);
      }
    }
  }

  private static double rate(ExecutionBenchmark.NoOp noOp, int actions) throws Exception {
    int callers = 64;
    StorageBenchmark.Latencies run = StorageBenchmark.concurrently(callers, actions / callers, (caller, i) -> noOp.run(1));
    return run.sortedNanos().length / (run.wallNanos() / 1e9);
  }

  private static long usedHeap() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    Runtime runtime = Runtime.getRuntime();
    return runtime.totalMemory() - runtime.freeMemory();
  }

  /** Workers with executors but no storage, that finish every action the moment it arrives. */
  private static final class SimulatedWorkers implements AutoCloseable {
    private final List<StreamObserver<WorkerMessage>> streams = new ArrayList<>();
    private final int count;
    private final java.util.concurrent.ScheduledExecutorService heartbeats =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor();

    SimulatedWorkers(ManagedChannel channel, int count) {
      this.count = count;
      for (int w = 0; w < count; w++) {
        Hello.Builder hello = Hello.newBuilder().setWorkerId("simulated-" + w);
        for (int e = 0; e < EXECUTORS_PER_WORKER; e++) {
          hello.addExecutors(Executor.newBuilder().setExecutorId("e" + e).setProperties(Platform.getDefaultInstance()));
        }
        StreamObserver<WorkerMessage>[] self = new StreamObserver[1];
        self[0] = WorkerServiceGrpc.newStub(channel).connect(new StreamObserver<>() {
          @Override
          public void onNext(SchedulerMessage message) {
            if (message.hasAssignment()) {
              String operation = message.getAssignment().getOperation();
              String executor = message.getAssignment().getExecutorId();
              long attempt = message.getAssignment().getAttempt(); // every report names the attempt it is about
              synchronized (self) {
                self[0].onNext(WorkerMessage.newBuilder().setStarted(ActionStarted.newBuilder().setOperation(operation)
                    .setAttempt(attempt)).build());
                self[0].onNext(WorkerMessage.newBuilder().setFinished(ActionFinished.newBuilder().setOperation(operation)
                    .setExecutorId(executor).setAttempt(attempt).setResponse(ExecuteResponse.getDefaultInstance())).build());
                self[0].onNext(WorkerMessage.newBuilder().setFree(ExecutorFree.newBuilder().setExecutorId(executor)).build());
              }
            }
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
        synchronized (self) {
          self[0].onNext(WorkerMessage.newBuilder().setHello(hello).build());
          for (int e = 0; e < EXECUTORS_PER_WORKER; e++) {
            self[0].onNext(WorkerMessage.newBuilder().setFree(ExecutorFree.newBuilder().setExecutorId("e" + e)).build());
          }
        }
        streams.add(self[0]);
        heartbeats.scheduleAtFixedRate(() -> {
          synchronized (self) {
            self[0].onNext(WorkerMessage.newBuilder().setHeartbeat(build.rex.v1.Heartbeat.getDefaultInstance()).build());
          }
        }, 2, 2, java.util.concurrent.TimeUnit.SECONDS);
      }
    }

    void awaitConnected(BenchCluster cluster) throws InterruptedException {
      while (cluster.scheduler.registry().executors() < count * EXECUTORS_PER_WORKER) {
        Thread.sleep(10);
      }
    }

    @Override
    public void close() throws InterruptedException {
      heartbeats.shutdownNow();
      Thread.sleep(100);
      streams.forEach(StreamObserver::onCompleted);
      Thread.sleep(500);
    }
  }
}
