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

/**
 * With several workers, every blob and Action Cache entry is on R of them; losing one loses
 * nothing, and the survivors copy what it held to the new owners.
 */
class ReplicatedStorageTest {
  @TempDir Path dataDir;

  private static long holders(List<WorkerServer> workers, Digest digest) {
    return workers.stream().filter(w -> w.cas().findMissing(List.of(digest)).isEmpty()).count();
  }

  @Test
  void blobsAndResultsAreOnTwoWorkersAndAllServed() throws Exception {
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
        assertTrue(held > 150 && held < 250, "each of 3 workers holds about two thirds: " + held);
        total += held;
      }
      assertEquals(600, total, "each blob is stored twice");
      for (Digest digest : digests) {
        assertEquals(2, holders(stack.workers, digest), "copies of " + digest.getHash());
      }
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

  @Test
  void losingAWorkerLosesNothingAndItsCopiesAreMadeAgain() throws Exception {
    try (LocalStack stack = new LocalStack(dataDir, 64 << 20, 3)) {
      var cas = ContentAddressableStorageGrpc.newBlockingStub(stack.channel);
      List<Digest> digests = new ArrayList<>();
      BatchUpdateBlobsRequest.Builder upload = BatchUpdateBlobsRequest.newBuilder();
      for (int i = 0; i < 200; i++) {
        ByteString blob = ByteString.copyFromUtf8("replicated blob " + i);
        digests.add(Digests.of(blob));
        upload.addRequestsBuilder().setDigest(Digests.of(blob)).setData(blob);
      }
      cas.batchUpdateBlobs(upload.build());
      var ac = ActionCacheGrpc.newBlockingStub(stack.channel);
      for (int i = 0; i < 20; i++) {
        ac.updateActionResult(UpdateActionResultRequest.newBuilder().setActionDigest(digests.get(i))
            .setActionResult(ActionResult.newBuilder().setExitCode(i)).build());
      }

      WorkerServer lost = stack.workers.remove(2);
      lost.close();
      stack.awaitRegistered(2);
      assertEquals(0, cas.findMissingBlobs(FindMissingBlobsRequest.newBuilder().addAllBlobDigests(digests).build())
          .getMissingBlobDigestsCount(), "every blob still has a copy");
      assertEquals(200, cas.batchReadBlobs(BatchReadBlobsRequest.newBuilder().addAllDigests(digests).build())
          .getResponsesList().stream().filter(r -> r.getStatus().getCode() == 0).count());

      // The survivors copy the lost worker's share to its new owners (delay: 1 s in LocalStack).
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
      while (digests.stream().anyMatch(d -> holders(stack.workers, d) < 2) && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      for (Digest digest : digests) {
        assertEquals(2, holders(stack.workers, digest), "copies of " + digest.getHash() + " after re-replication");
      }
      while (stack.workers.stream().anyMatch(w -> w.replicator().underReplicated() > 0) && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      stack.workers.forEach(w -> assertEquals(0, w.replicator().underReplicated(), w.workerId()));
      for (int i = 0; i < 20; i++) {
        assertEquals(i, ac.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(digests.get(i)).build())
            .getExitCode());
      }
    }
  }

  @Test
  void aLostWorkerMakesTheSchedulerAskAgainForBlobsItHadConfirmed() throws Exception {
    try (LocalStack stack = new LocalStack(dataDir, 64 << 20, 3, 0, 2, config -> config.cas.existenceCacheSeconds = 60)) {
      ByteString output = ByteString.copyFromUtf8("an output the lost worker may have held");
      ContentAddressableStorageGrpc.newBlockingStub(stack.channel).batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
          .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(output)).setData(output)).build());
      Digest action = Digests.of(ByteString.copyFromUtf8("the action"));
      var ac = ActionCacheGrpc.newBlockingStub(stack.channel);
      ac.updateActionResult(UpdateActionResultRequest.newBuilder().setActionDigest(action)
          .setActionResult(ActionResult.newBuilder().addOutputFiles(build.bazel.remote.execution.v2.OutputFile.newBuilder()
              .setPath("out").setDigest(Digests.of(output)))).build());
      GetActionResultRequest lookup = GetActionResultRequest.newBuilder().setActionDigest(action).build();
      String misses = "rex_cas_existence_misses_total";
      int admin = stack.scheduler.adminPort();

      ac.getActionResult(lookup);
      double before = AdminMetrics.value(admin, misses);
      ac.getActionResult(lookup);
      assertEquals(before, AdminMetrics.value(admin, misses), "the upload's confirmation answered the hit's check");

      WorkerServer lost = stack.workers.remove(2);
      lost.close();
      stack.awaitRegistered(2);
      // The membership changes just after the registry forgets the worker: look until it has.
      Await.holds("a hit's check asks the workers again once a worker left", () -> {
        ac.getActionResult(lookup);
        return AdminMetrics.value(admin, misses) > before;
      });
    }
  }
}
