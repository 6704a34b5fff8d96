package build.rex.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.rex.storage.Digests;
import build.rex.worker.WorkerServer;
import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With several workers, the scheduler spreads blobs and Action Cache entries over all of them. */
class ShardedStorageTest {
  @TempDir Path dataDir;

  @Test
  void blobsAndResultsAreSpreadOverWorkersAndAllServed() throws Exception {
    try (LocalStack stack = new LocalStack(dataDir, 64 << 20, 3)) {
      var cas = ContentAddressableStorageGrpc.newBlockingStub(stack.channel);
      var ac = ActionCacheGrpc.newBlockingStub(stack.channel);
      List<Digest> digests = new ArrayList<>();
      BatchUpdateBlobsRequest.Builder upload = BatchUpdateBlobsRequest.newBuilder();
      for (int i = 0; i < 300; i++) {
        ByteString blob = ByteString.copyFromUtf8("sharded blob " + i);
        digests.add(Digests.of(blob));
        upload.addRequestsBuilder().setDigest(Digests.of(blob)).setData(blob);
      }
      cas.batchUpdateBlobs(upload.build()).getResponsesList()
          .forEach(r -> assertEquals(0, r.getStatus().getCode(), r.getStatus().getMessage()));

      long total = 0;
      for (WorkerServer worker : stack.workers) {
        long held = worker.cas().blobCount();
        assertTrue(held > 50 && held < 150, "each of 3 workers holds about a third: " + held);
        total += held;
      }
      assertEquals(300, total, "each blob is stored once (replication comes later)");
      assertEquals(0, cas.findMissingBlobs(FindMissingBlobsRequest.newBuilder().addAllBlobDigests(digests).build())
          .getMissingBlobDigestsCount());
      assertEquals(300, cas.batchReadBlobs(BatchReadBlobsRequest.newBuilder().addAllDigests(digests).build())
          .getResponsesList().stream().filter(r -> r.getStatus().getCode() == 0).count());

      for (int i = 0; i < 30; i++) {
        ac.updateActionResult(UpdateActionResultRequest.newBuilder().setActionDigest(digests.get(i))
            .setActionResult(ActionResult.newBuilder().setExitCode(i)).build());
      }
      stack.restart(); // empties the scheduler's memory layer: results come from the workers' disks
      ac = ActionCacheGrpc.newBlockingStub(stack.channel);
      for (int i = 0; i < 30; i++) {
        assertEquals(i, ac.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(digests.get(i)).build())
            .getExitCode());
      }
    }
  }
}
