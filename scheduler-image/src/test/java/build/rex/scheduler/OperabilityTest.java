package build.rex.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.rex.storage.Digests;
import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Eviction under a small CAS, and what the admin ports show about it. */
class OperabilityTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  @TempDir Path dataDir;

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static double metric(String scrape, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.eE+-]+)$").matcher(scrape);
    assertTrue(m.find(), () -> "no series " + series + " in:\n" + scrape);
    return Double.parseDouble(m.group(1));
  }

  @Test
  void smallCasEvictsOldestBlobsAndAdminPortsReportIt() throws Exception {
    try (LocalStack stack = new LocalStack(dataDir, 1 << 20)) {
      var cas = ContentAddressableStorageGrpc.newBlockingStub(stack.channel);
      List<Digest> digests = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        ByteString blob = StorageProtocolTest.randomBytes(100 << 10, i);
        digests.add(Digests.of(blob));
        cas.batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
            .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(blob)).setData(blob)).build());
      }
      List<Digest> missing = cas.findMissingBlobs(FindMissingBlobsRequest.newBuilder().addAllBlobDigests(digests).build())
          .getMissingBlobDigestsList();
      assertTrue(missing.contains(digests.get(0)), "the oldest blob was evicted");
      assertTrue(!missing.contains(digests.get(19)), "the newest blob is kept");
      try {
        ActionCacheGrpc.newBlockingStub(stack.channel).getActionResult(GetActionResultRequest.newBuilder()
            .setActionDigest(digests.get(0)).build());
      } catch (StatusRuntimeException expectedMiss) {
        // counted as a miss below
      }

      String worker = get(stack.worker.adminPort(), "/metrics").body();
      assertTrue(metric(worker, "rex_cas_evictions_total") > 0);
      assertTrue(metric(worker, "rex_cas_size_bytes") <= 1 << 20);
      assertEquals(20 - missing.size(), (int) metric(worker, "rex_cas_blobs"));

      String scheduler = get(stack.scheduler.adminPort(), "/metrics").body();
      String batch = "build.bazel.remote.execution.v2.ContentAddressableStorage/BatchUpdateBlobs";
      assertEquals(20, metric(scheduler, "rex_grpc_server_requests_total{code=\"OK\",method=\"" + batch + "\"}"));
      assertTrue(metric(scheduler, "rex_grpc_server_received_bytes_total{method=\"" + batch + "\"}") > 20 * (100 << 10));
      assertEquals(1, metric(scheduler, "rex_action_cache_requests_total{result=\"miss\"}"));

      assertEquals(200, get(stack.scheduler.adminPort(), "/healthz").statusCode());
      assertEquals(200, get(stack.scheduler.adminPort(), "/readyz").statusCode());
      assertEquals(200, get(stack.worker.adminPort(), "/readyz").statusCode());
    }
  }
}
