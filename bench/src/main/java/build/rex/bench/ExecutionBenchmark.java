package build.rex.bench;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.rex.config.Logging;
import build.rex.storage.Digests;
import com.google.longrunning.Operation;
import com.google.protobuf.ByteString;
import io.grpc.Channel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The execution benchmark of docs/benchmarks.md: no-op actions (a unique salt each, so nothing
 * is cached) per second through scheduler and worker, against plain ProcessBuilder spawning
 * {@code true} with the same parallelism in the same run; and Execute latency for one no-op
 * action at a time. Usage: {@code java -cp bench/target/rex-bench.jar build.rex.bench.ExecutionBenchmark [actions]}.
 */
public final class ExecutionBenchmark {
  private ExecutionBenchmark() {}

  public static void main(String[] args) throws Exception {
    Logging.init("warn");
    int actions = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int executors = Runtime.getRuntime().availableProcessors();
    // World-traversable, as a worker's data folder is, so the sandbox user can reach exec roots.
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "rex-exec-bench",
        java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
            java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x")));
    try {
      System.out.printf("rex execution benchmark: %d no-op actions, %d executors, Java %s%n", actions, executors,
          Runtime.version());
      double spawn = spawnsPerSecond(actions, executors);
      System.out.printf("%-46s %8.0f /s%n", "ProcessBuilder spawning true (baseline)", spawn);
      for (boolean sandbox : new boolean[] {true, false}) {
        try (BenchCluster cluster = new BenchCluster(dir.resolve("sandbox-" + sandbox), 1L << 30, false, executors, sandbox)) {
          String setting = sandbox ? "sandbox on (default)" : "sandbox off";
          NoOp noOp = new NoOp(cluster.channel);
          noOp.run(200); // warm up
          StorageBenchmark.Latencies throughput = StorageBenchmark.concurrently(executors * 2,
              actions / (executors * 2), (caller, i) -> noOp.run(1));
          double rate = throughput.sortedNanos().length / (throughput.wallNanos() / 1e9);
          System.out.printf("%-46s %8.0f /s  ratio %.2f of spawning (target >= 0.5)%n",
              "no-op actions, " + setting, rate, rate / spawn);
          StorageBenchmark.Latencies latency = StorageBenchmark.concurrently(1, 300, (caller, i) -> noOp.run(1));
          System.out.printf("%-46s %s (target p50 < 10 ms)%n", "Execute latency one at a time, " + setting, latency);
          noOp.phases.clear();
          StorageBenchmark.concurrently(1, 300, (caller, i) -> noOp.run(1));
          System.out.println("  where one call's time goes (medians): " + noOp.phaseMedians());
        }
      }
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  static double spawnsPerSecond(int count, int threads) throws Exception {
    StorageBenchmark.Latencies spawns = StorageBenchmark.concurrently(threads, count / threads, (caller, i) -> {
      try {
        new ProcessBuilder("true").start().waitFor();
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    return spawns.sortedNanos().length / (spawns.wallNanos() / 1e9);
  }

  /** Executes `true` with a fresh salt, so every call really runs. */
  static final class NoOp {
    private final Channel channel;
    private final Digest command;
    private final Digest inputRoot;
    private final AtomicLong salt = new AtomicLong();
    /** One call's phases, in the order they happen, between ExecutedActionMetadata's timestamps. */
    private static final String[] PHASES = {"client -> queued", "queued -> worker start", "fetch inputs",
        "exec root + sandbox", "run", "outputs + upload", "worker done", "result -> client"};
    /** Where the time of each call went, by phase, in microseconds. */
    final java.util.Map<String, java.util.List<Long>> phases = new java.util.concurrent.ConcurrentHashMap<>();
    /** How long each Execute call took, from the call to its last message (the Action's upload before it not counted). */
    final java.util.List<Long> executeNanos = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    /** p50 and p99 of the Execute calls so far, in ms. */
    double[] executePercentiles() {
      long[] sorted = executeNanos.stream().mapToLong(Long::longValue).sorted().toArray();
      return new double[] {sorted[sorted.length / 2] / 1e6, sorted[(int) (sorted.length * 0.99)] / 1e6};
    }

    NoOp(Channel channel) {
      this.channel = channel;
      this.command = upload(Command.newBuilder().addArguments("/bin/true").build().toByteString());
      this.inputRoot = upload(Directory.getDefaultInstance().toByteString());
    }

    private Digest upload(ByteString blob) {
      ContentAddressableStorageGrpc.newBlockingStub(channel).batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
          .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(blob)).setData(blob)).build());
      return Digests.of(blob);
    }

    private void record(long start, build.bazel.remote.execution.v2.ExecutedActionMetadata m) {
      long end = com.google.protobuf.util.Timestamps.toMicros(com.google.protobuf.util.Timestamps.now());
      long[] points = {start, micros(m.getQueuedTimestamp()), micros(m.getWorkerStartTimestamp()),
          micros(m.getInputFetchCompletedTimestamp()), micros(m.getExecutionStartTimestamp()),
          micros(m.getExecutionCompletedTimestamp()), micros(m.getOutputUploadCompletedTimestamp()),
          micros(m.getWorkerCompletedTimestamp()), end};
      for (int i = 0; i < PHASES.length; i++) {
        phases.computeIfAbsent(PHASES[i], k -> java.util.Collections.synchronizedList(new java.util.ArrayList<>()))
            .add(points[i + 1] - points[i]);
      }
    }

    private static long micros(com.google.protobuf.Timestamp t) {
      return com.google.protobuf.util.Timestamps.toMicros(t);
    }

    /** The median of each phase, in ms, in the order they happen. */
    String phaseMedians() {
      StringBuilder out = new StringBuilder();
      for (String name : PHASES) {
        java.util.List<Long> values = new java.util.ArrayList<>(phases.getOrDefault(name, java.util.List.of()));
        java.util.Collections.sort(values);
        if (!values.isEmpty()) {
          out.append(String.format("%s %.2f ms; ", name, values.get(values.size() / 2) / 1000.0));
        }
      }
      return out.toString();
    }

    void run(int times) {
      for (int i = 0; i < times; i++) {
        Action action = Action.newBuilder().setCommandDigest(command).setInputRootDigest(inputRoot)
            .setSalt(ByteString.copyFromUtf8(Long.toString(salt.incrementAndGet()))).build();
        Digest actionDigest = upload(action.toByteString());
        long start = com.google.protobuf.util.Timestamps.toMicros(com.google.protobuf.util.Timestamps.now());
        long executeStart = System.nanoTime();
        Iterator<Operation> operation = ExecutionGrpc.newBlockingStub(channel)
            .execute(ExecuteRequest.newBuilder().setActionDigest(actionDigest).build());
        Operation last = null;
        while (operation.hasNext()) {
          last = operation.next();
        }
        long took = System.nanoTime() - executeStart;
        try {
          ExecuteResponse response = last.getResponse().unpack(ExecuteResponse.class);
          if (response.getStatus().getCode() != 0 || response.getResult().getExitCode() != 0) {
            throw new IllegalStateException("no-op action failed: " + response);
          }
          executeNanos.add(took);
          record(start, response.getResult().getExecutionMetadata());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new IllegalStateException(e);
        }
      }
    }
  }
}
