package build.rex.bench;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.rex.bench.report.Samples;
import build.rex.storage.Digests;
import com.google.protobuf.ByteString;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The micro figures, measured the same way against any REAPI server: ByteStream of one large
 * blob both ways, BatchUpdateBlobs of many small blobs, FindMissingBlobs, GetActionResult and
 * GetCapabilities with 64 callers, and no-op Execute (rate and latency).
 */
final class MicroBenchmark {
  static final int CALLERS = 64;
  static final int SMALL_BLOBS = 10_000;
  private final Map<String, Samples> figures = new LinkedHashMap<>();

  Samples figure(String name) {
    return figures.computeIfAbsent(name, n -> new Samples());
  }

  /** Upload then download of {@code bytes} (a digest new to the server each round). */
  void byteStream(ReapiTarget target, byte[] pattern, long bytes) throws Exception {
    byte[] salted = pattern.clone();
    byte[] salt = UUID.randomUUID().toString().getBytes();
    System.arraycopy(salt, 0, salted, 0, salt.length);
    MessageDigest hasher = Digests.newHasher();
    for (long done = 0; done < bytes; done += 1 << 20) {
      hasher.update(salted, (int) (done % salted.length), 1 << 20);
    }
    Digest digest = Digests.of(Digests.hex(hasher.digest()), bytes);
    figure(target.name() + " upload").add(StorageBenchmark.uploadMiBps(target.channel(), salted, bytes, digest));
    figure(target.name() + " download").add(StorageBenchmark.downloadMiBps(target.channel(), digest));
  }

  /** {@value #SMALL_BLOBS} new blobs of about 100 bytes, in batches of 1,000: blobs per second. */
  void batchUpdate(ReapiTarget target) {
    var cas = ContentAddressableStorageGrpc.newBlockingStub(target.channel());
    String run = UUID.randomUUID().toString();
    long start = System.nanoTime();
    BatchUpdateBlobsRequest.Builder batch = BatchUpdateBlobsRequest.newBuilder();
    for (int i = 0; i < SMALL_BLOBS; i++) {
      ByteString blob = ByteString.copyFromUtf8("small blob " + i + " of run " + run + " ".repeat(40));
      batch.addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(blob)).setData(blob));
      if (batch.getRequestsCount() == 1000 || i == SMALL_BLOBS - 1) {
        cas.batchUpdateBlobs(batch.build()).getResponsesList().forEach(r -> {
          if (r.getStatus().getCode() != 0) {
            throw new IllegalStateException(target.name() + " refused a blob: " + r.getStatus());
          }
        });
        batch.clearRequests();
      }
    }
    figure(target.name() + " batch update").add(SMALL_BLOBS / ((System.nanoTime() - start) / 1e9));
  }

  /** FindMissingBlobs of {@value #SMALL_BLOBS} digests, half present: the median of 20 calls, in ms. */
  void findMissing(ReapiTarget target) {
    var cas = ContentAddressableStorageGrpc.newBlockingStub(target.channel());
    String run = UUID.randomUUID().toString();
    List<Digest> digests = new ArrayList<>();
    BatchUpdateBlobsRequest.Builder batch = BatchUpdateBlobsRequest.newBuilder();
    for (int i = 0; i < SMALL_BLOBS; i++) {
      ByteString blob = ByteString.copyFromUtf8("find-missing blob " + i + " of " + run);
      digests.add(Digests.of(blob));
      if (i % 2 == 0) {
        batch.addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(blob)).setData(blob));
      }
      if (batch.getRequestsCount() == 1000) {
        cas.batchUpdateBlobs(batch.build());
        batch.clearRequests();
      }
    }
    cas.batchUpdateBlobs(batch.build());
    FindMissingBlobsRequest request = FindMissingBlobsRequest.newBuilder().addAllBlobDigests(digests).build();
    long[] times = new long[20];
    for (int i = -5; i < times.length; i++) {
      long t0 = System.nanoTime();
      int missing = cas.findMissingBlobs(request).getMissingBlobDigestsCount();
      if (missing != SMALL_BLOBS / 2) {
        throw new IllegalStateException(target.name() + ": " + missing + " missing, expected " + SMALL_BLOBS / 2);
      }
      if (i >= 0) {
        times[i] = System.nanoTime() - t0;
      }
    }
    Arrays.sort(times);
    figure(target.name() + " find missing").add(times[times.length / 2] / 1e6);
  }

  /** GetActionResult hits (all outputs present) and GetCapabilities, {@value #CALLERS} callers each. */
  void actionCache(ReapiTarget target) throws Exception {
    int actions = 500;
    var cas = ContentAddressableStorageGrpc.newBlockingStub(target.channel());
    var ac = ActionCacheGrpc.newBlockingStub(target.channel());
    String run = UUID.randomUUID().toString();
    List<Digest> keys = new ArrayList<>();
    for (int i = 0; i < actions; i++) {
      ByteString out = ByteString.copyFromUtf8("output of action " + i + " " + run);
      ByteString log = ByteString.copyFromUtf8("stdout of action " + i + " " + run);
      cas.batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
          .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(out)).setData(out))
          .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(log)).setData(log)).build());
      Digest key = Digests.of(ByteString.copyFromUtf8("action " + i + " " + run));
      ac.updateActionResult(UpdateActionResultRequest.newBuilder().setActionDigest(key).setActionResult(
          ActionResult.newBuilder().addOutputFiles(OutputFile.newBuilder().setPath("out/" + i).setDigest(Digests.of(out)))
              .setStdoutDigest(Digests.of(log))).build());
      keys.add(key);
    }
    var capabilities = CapabilitiesGrpc.newBlockingStub(target.channel());
    for (int i = 0; i < 2000; i++) { // warm up both paths
      ac.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(keys.get(i % actions)).build());
      capabilities.getCapabilities(GetCapabilitiesRequest.getDefaultInstance());
    }
    StorageBenchmark.Latencies floor = StorageBenchmark.concurrently(CALLERS, 300,
        (caller, i) -> capabilities.getCapabilities(GetCapabilitiesRequest.getDefaultInstance()));
    StorageBenchmark.Latencies hits = StorageBenchmark.concurrently(CALLERS, 300, (caller, i) -> ac.getActionResult(
        GetActionResultRequest.newBuilder().setActionDigest(keys.get((caller * 7919 + i) % actions)).build()));
    figure(target.name() + " capabilities p50").add(floor.p50());
    figure(target.name() + " action cache p50").add(hits.p50());
    figure(target.name() + " action cache p99").add(hits.p99());
  }

  /**
   * No-op actions (a new salt each): per second with 2 callers per executor (each uploading its
   * Action, then calling Execute), and the latency of the Execute call one at a time.
   */
  void execute(ReapiTarget target, String label, int executors, int actions) throws Exception {
    ExecutionBenchmark.NoOp noOp = new ExecutionBenchmark.NoOp(target.channel());
    noOp.run(500); // warm-up: long enough for the JIT to compile the path (its thresholds are high)
    StorageBenchmark.Latencies throughput = StorageBenchmark.concurrently(executors * 2, actions / (executors * 2),
        (caller, i) -> noOp.run(1));
    figure(label + " execute rate").add(throughput.sortedNanos().length / (throughput.wallNanos() / 1e9));
    noOp.executeNanos.clear();
    StorageBenchmark.concurrently(1, 200, (caller, i) -> noOp.run(1));
    double[] percentiles = noOp.executePercentiles();
    figure(label + " execute p50").add(percentiles[0]);
    figure(label + " execute p99").add(percentiles[1]);
  }
}
