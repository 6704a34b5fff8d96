package build.rex.bench;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.rex.config.Endpoint;
import build.rex.server.GrpcMetrics;
import build.rex.server.GrpcServerFactory;
import build.rex.config.Logging;
import build.rex.storage.Digests;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * The storage benchmark of docs/benchmarks.md. Prints, from one run: ByteStream upload and
 * download of a large blob through the scheduler against a plain loopback TCP copy of the same
 * bytes, GetActionResult latency and throughput with 64 callers, and FindMissingBlobs of 10,000
 * digests. Usage: {@code java -jar bench/target/rex-bench.jar [--blob-mib N]} (default 1024).
 */
public final class StorageBenchmark {
  private static final int CHUNK = 1 << 20;
  private static final int PATTERN_BYTES = 64 << 20;

  private StorageBenchmark() {}

  public static void main(String[] args) throws Exception {
    Logging.init("warn");
    long blobBytes = (args.length == 2 && args[0].equals("--blob-mib") ? Long.parseLong(args[1]) : 1024) << 20;
    byte[] pattern = new byte[PATTERN_BYTES];
    new Random(42).nextBytes(pattern);
    Path dir = Files.createTempDirectory("rex-bench");
    try {
      System.out.printf("rex storage benchmark: %d MiB blob, %d cores, Java %s%n", blobBytes >> 20,
          Runtime.getRuntime().availableProcessors(), Runtime.version());
      double tcp = loopbackTcpMiBps(pattern, blobBytes);
      System.out.printf("%-46s %8.1f MiB/s%n", "loopback TCP copy (baseline)", tcp);
      Digest digest = digestOf(pattern, blobBytes);
      Floor floor = grpcFloor(pattern, blobBytes, digest);
      System.out.printf("%-46s %8.1f MiB/s  ratio %.2f of TCP%n", "one gRPC hop, no storage: upload (floor)",
          floor.uploadMiBps(), floor.uploadMiBps() / tcp);
      System.out.printf("%-46s %8.1f MiB/s  ratio %.2f of TCP%n", "one gRPC hop, no storage: download (floor)",
          floor.downloadMiBps(), floor.downloadMiBps() / tcp);
      for (boolean fsync : new boolean[] {true, false}) {
        try (BenchCluster cluster = new BenchCluster(dir.resolve("fsync-" + fsync), 3 * blobBytes, fsync)) {
          String setting = fsync ? "worker fsync on (default)" : "worker fsync off";
          report("upload via scheduler, " + setting, uploadMiBps(cluster.channel, pattern, blobBytes, digest), tcp);
          report("download via scheduler, " + setting, downloadMiBps(cluster.channel, digest), tcp);
          if (!fsync) {
            Digest other = digestOf(pattern, blobBytes - CHUNK);
            report("upload straight to worker, " + setting, uploadMiBps(cluster.workerChannel, pattern, blobBytes - CHUNK, other), tcp);
            report("download straight from worker", downloadMiBps(cluster.workerChannel, other), tcp);
            getActionResult(cluster.channel);
            findMissing(cluster.channel);
          }
        }
      }
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** Baseline: the same number of bytes through one loopback TCP connection, read and discarded. */
  static double loopbackTcpMiBps(byte[] pattern, long bytes) throws Exception {
    try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
      CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
        try (SocketChannel in = server.accept()) {
          ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
          long total = 0;
          for (int n; (n = in.read(buffer.clear())) >= 0; ) {
            total += n;
          }
          return total;
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      long start = System.nanoTime();
      try (SocketChannel out = SocketChannel.open(server.getLocalAddress())) {
        for (long sent = 0; sent < bytes; sent += CHUNK) {
          ByteBuffer chunk = ByteBuffer.wrap(pattern, (int) (sent % PATTERN_BYTES), CHUNK);
          while (chunk.hasRemaining()) {
            out.write(chunk);
          }
        }
      }
      if (received.get() != bytes) {
        throw new IllegalStateException("TCP baseline lost bytes");
      }
      return mibPerSecond(bytes, System.nanoTime() - start);
    }
  }

  /** What one gRPC hop moves each way here, to and from a ByteStream with no storage behind it. */
  record Floor(double uploadMiBps, double downloadMiBps) {}

  /** The same upload and download against {@link StorelessByteStream}: what gRPC alone costs on this machine. */
  static Floor grpcFloor(byte[] pattern, long bytes, Digest digest) throws Exception {
    io.grpc.Server server = GrpcServerFactory.start(build.rex.server.GrpcPort.of(new Endpoint("127.0.0.1", 0),
        io.grpc.InsecureServerCredentials.create(), List.of(new StorelessByteStream(pattern))), new GrpcMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry()),
        build.rex.server.Tracing.off());
    io.grpc.ManagedChannel channel = BenchCluster.channelTo(server.getPort());
    try {
      return new Floor(uploadMiBps(channel, pattern, bytes, digest), downloadMiBps(channel, digest));
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
    }
  }

  static Digest digestOf(byte[] pattern, long bytes) {
    MessageDigest hasher = Digests.newHasher();
    for (long done = 0; done < bytes; done += CHUNK) {
      hasher.update(pattern, (int) (done % PATTERN_BYTES), CHUNK);
    }
    return Digests.of(Digests.hex(hasher.digest()), bytes);
  }

  /** Uploads with flow control: a chunk goes out whenever the transport is ready for one. */
  static double uploadMiBps(Channel channel, byte[] pattern, long bytes, Digest digest) throws Exception {
    CompletableFuture<WriteResponse> done = new CompletableFuture<>();
    String name = "uploads/" + UUID.randomUUID() + "/blobs/" + Digests.toString(digest);
    long start = System.nanoTime();
    ByteStreamGrpc.newStub(channel).write(new ClientResponseObserver<WriteRequest, WriteResponse>() {
      private long sent;
      private ClientCallStreamObserver<WriteRequest> requests;

      @Override
      public void beforeStart(ClientCallStreamObserver<WriteRequest> stream) {
        requests = stream;
        stream.setOnReadyHandler(this::pump);
      }

      private synchronized void pump() {
        while (requests.isReady() && sent < bytes) {
          boolean last = sent + CHUNK >= bytes;
          requests.onNext(WriteRequest.newBuilder().setResourceName(sent == 0 ? name : "").setWriteOffset(sent)
              .setData(UnsafeByteOperations.unsafeWrap(pattern, (int) (sent % PATTERN_BYTES), CHUNK))
              .setFinishWrite(last).build());
          sent += CHUNK;
          if (last) {
            requests.onCompleted();
          }
        }
      }

      @Override
      public void onNext(WriteResponse value) {
        done.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    });
    if (done.get().getCommittedSize() != bytes) {
      throw new IllegalStateException("upload committed " + done.get().getCommittedSize());
    }
    return mibPerSecond(bytes, System.nanoTime() - start);
  }

  static double downloadMiBps(Channel channel, Digest digest) {
    long start = System.nanoTime();
    long received = 0;
    var responses = ByteStreamGrpc.newBlockingStub(channel)
        .read(ReadRequest.newBuilder().setResourceName("blobs/" + Digests.toString(digest)).build());
    while (responses.hasNext()) {
      ReadResponse response = responses.next();
      received += response.getData().size();
    }
    if (received != digest.getSizeBytes()) {
      throw new IllegalStateException("download returned " + received + " bytes");
    }
    return mibPerSecond(received, System.nanoTime() - start);
  }

  /** 64 callers ask for cached results whose blobs are all present (the checked, common case). */
  static void getActionResult(Channel channel) throws Exception {
    int actions = 1000;
    int callers = 64;
    int callsPerCaller = 2000;
    List<Digest> keys = new ArrayList<>();
    var cas = ContentAddressableStorageGrpc.newBlockingStub(channel);
    var ac = ActionCacheGrpc.newBlockingStub(channel);
    for (int i = 0; i < actions; i++) {
      ByteString out = ByteString.copyFromUtf8("output of action " + i);
      ByteString log = ByteString.copyFromUtf8("stdout of action " + i);
      cas.batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
          .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(out)).setData(out))
          .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(log)).setData(log)).build());
      Digest key = Digests.of(ByteString.copyFromUtf8("action " + i));
      ac.updateActionResult(UpdateActionResultRequest.newBuilder().setActionDigest(key).setActionResult(
          ActionResult.newBuilder().addOutputFiles(OutputFile.newBuilder().setPath("out/" + i).setDigest(Digests.of(out)))
              .setStdoutDigest(Digests.of(log))).build());
      keys.add(key);
    }
    for (int i = 0; i < 5000; i++) {
      ac.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(keys.get(i % actions)).build());
    }
    var capabilities = build.bazel.remote.execution.v2.CapabilitiesGrpc.newBlockingStub(channel);
    Latencies floor = concurrently(callers, callsPerCaller,
        (caller, i) -> capabilities.getCapabilities(build.bazel.remote.execution.v2.GetCapabilitiesRequest.getDefaultInstance()));
    Latencies hits = concurrently(callers, callsPerCaller, (caller, i) -> ac.getActionResult(
        GetActionResultRequest.newBuilder().setActionDigest(keys.get((caller * 7919 + i) % actions)).build()));
    System.out.printf("%-46s %s%n", "GetCapabilities, " + callers + " callers (floor)", floor);
    System.out.printf("%-46s %s  p50 ratio %.1f of floor (target p50 < 1 ms)%n",
        "GetActionResult hits, " + callers + " callers", hits, hits.p50() / floor.p50());
  }

  /** Latencies of many calls, sorted, and the wall time they took. */
  record Latencies(long[] sortedNanos, long wallNanos) {
    double p50() {
      return sortedNanos[sortedNanos.length / 2] / 1e6;
    }

    double p99() {
      return sortedNanos[(int) (sortedNanos.length * 0.99)] / 1e6;
    }

    @Override
    public String toString() {
      return String.format("p50 %.3f ms  p99 %.3f ms  %,.0f calls/s", p50(), p99(), sortedNanos.length / (wallNanos / 1e9));
    }
  }

  interface Call {
    void run(int caller, int index);
  }

  /** Runs {@code perCaller} calls on each of {@code callers} threads at once. */
  static Latencies concurrently(int callers, int perCaller, Call call) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    long[] latencies = new long[callers * perCaller];
    long start = System.nanoTime();
    List<Future<?>> running = new ArrayList<>();
    for (int c = 0; c < callers; c++) {
      int caller = c;
      running.add(pool.submit(() -> {
        for (int i = 0; i < perCaller; i++) {
          long t0 = System.nanoTime();
          call.run(caller, i);
          latencies[caller * perCaller + i] = System.nanoTime() - t0;
        }
      }));
    }
    for (Future<?> f : running) {
      f.get();
    }
    long wall = System.nanoTime() - start;
    pool.shutdown();
    Arrays.sort(latencies);
    return new Latencies(latencies, wall);
  }

  /** FindMissingBlobs of 10,000 digests, half of them present (as bench/run measures it). */
  static void findMissing(Channel channel) {
    MicroBenchmark micro = new MicroBenchmark();
    micro.findMissing(new ReapiTarget("rex", channel, null));
    System.out.printf("FindMissingBlobs, 10,000 digests: median %.2f ms of 20 calls (target < 20 ms)%n",
        micro.figure("rex find missing").median());
  }

  private static void report(String what, double mibps, double baseline) {
    System.out.printf("%-46s %8.1f MiB/s  ratio %.2f of TCP (target >= 0.5)%n", what, mibps, mibps / baseline);
  }

  private static double mibPerSecond(long bytes, long nanos) {
    return bytes / (1024.0 * 1024.0) / (nanos / 1e9);
  }
}
