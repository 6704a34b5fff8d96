package build.rex.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.rex.storage.Digests;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The REAPI storage surface of the scheduler, end to end through a real worker's disk. */
class StorageProtocolTest {
  @TempDir Path dataDir;
  private LocalStack stack;

  @BeforeEach
  void start() throws Exception {
    stack = new LocalStack(dataDir, 64 << 20);
  }

  @AfterEach
  void stop() throws Exception {
    stack.close();
  }

  private ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub cas() {
    return ContentAddressableStorageGrpc.newBlockingStub(stack.channel);
  }

  private ByteStreamGrpc.ByteStreamBlockingStub byteStream() {
    return ByteStreamGrpc.newBlockingStub(stack.channel);
  }

  private ActionCacheGrpc.ActionCacheBlockingStub actionCache() {
    return ActionCacheGrpc.newBlockingStub(stack.channel);
  }

  static ByteString randomBytes(int size, long seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return ByteString.copyFrom(data);
  }

  private void batchUpload(ByteString... blobs) {
    BatchUpdateBlobsRequest.Builder request = BatchUpdateBlobsRequest.newBuilder();
    for (ByteString blob : blobs) {
      request.addRequestsBuilder().setDigest(Digests.of(blob)).setData(blob);
    }
    for (BatchUpdateBlobsResponse.Response response : cas().batchUpdateBlobs(request.build()).getResponsesList()) {
      assertEquals(Code.OK_VALUE, response.getStatus().getCode(), response.getStatus().getMessage());
    }
  }

  private static void assertStatus(Status.Code code, String messagePart, Runnable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    assertTrue(String.valueOf(e.getStatus().getDescription()).contains(messagePart),
        () -> "'" + e.getStatus().getDescription() + "' lacks '" + messagePart + "'");
  }

  // --- Capabilities

  @Test
  void capabilitiesAreHonest() {
    ServerCapabilities caps = CapabilitiesGrpc.newBlockingStub(stack.channel)
        .getCapabilities(GetCapabilitiesRequest.getDefaultInstance());
    assertEquals(List.of(DigestFunction.Value.SHA256), caps.getCacheCapabilities().getDigestFunctionsList());
    assertEquals(4_000_000, caps.getCacheCapabilities().getMaxBatchTotalSizeBytes());
    assertEquals(List.of(Compressor.Value.ZSTD), caps.getCacheCapabilities().getSupportedCompressorsList());
    assertTrue(caps.getCacheCapabilities().getActionCacheUpdateCapabilities().getUpdateEnabled());
    assertEquals(2, caps.getLowApiVersion().getMajor());
    assertEquals(0, caps.getLowApiVersion().getMinor());
    assertTrue(caps.getExecutionCapabilities().getExecEnabled());
    assertEquals(DigestFunction.Value.SHA256, caps.getExecutionCapabilities().getDigestFunction());
  }

  // --- Section 6: spec details

  @Test
  void theEmptyBlobIsAlwaysPresent() {
    assertEquals(0, cas().findMissingBlobs(FindMissingBlobsRequest.newBuilder().addBlobDigests(Digests.EMPTY).build())
        .getMissingBlobDigestsCount());
    BatchReadBlobsResponse read = cas().batchReadBlobs(BatchReadBlobsRequest.newBuilder().addDigests(Digests.EMPTY).build());
    assertEquals(Code.OK_VALUE, read.getResponses(0).getStatus().getCode());
    assertTrue(read.getResponses(0).getData().isEmpty());
    Iterator<ReadResponse> stream = byteStream().read(ReadRequest.newBuilder()
        .setResourceName("blobs/" + Digests.toString(Digests.EMPTY)).build());
    stream.forEachRemaining(r -> assertTrue(r.getData().isEmpty()));
  }

  @Test
  void batchUploadReportsDigestMismatchPerBlob() {
    ByteString good = ByteString.copyFromUtf8("good");
    ByteString bad = ByteString.copyFromUtf8("bad!");
    BatchUpdateBlobsResponse response = cas().batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
        .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(good)).setData(good))
        .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(ByteString.copyFromUtf8("else"))).setData(bad))
        .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(ByteString.copyFromUtf8("sized"))).setData(bad))
        .build());
    assertEquals(Code.OK_VALUE, response.getResponses(0).getStatus().getCode());
    assertEquals(Code.INVALID_ARGUMENT_VALUE, response.getResponses(1).getStatus().getCode());
    assertTrue(response.getResponses(1).getStatus().getMessage().contains("does not match"));
    assertEquals(Code.INVALID_ARGUMENT_VALUE, response.getResponses(2).getStatus().getCode());
    assertTrue(response.getResponses(2).getStatus().getMessage().contains("4 bytes of data, not 5"));
    assertEquals(List.of(Digests.of(ByteString.copyFromUtf8("else"))), cas().findMissingBlobs(FindMissingBlobsRequest
        .newBuilder().addBlobDigests(Digests.of(good)).addBlobDigests(Digests.of(ByteString.copyFromUtf8("else"))).build())
        .getMissingBlobDigestsList());
  }

  @Test
  void batchesOverTheAdvertisedLimitAreInvalid() {
    ByteString big = randomBytes(2_100_000, 1);
    ByteString big2 = randomBytes(2_100_000, 2);
    assertStatus(Status.Code.INVALID_ARGUMENT, "exceeds max_batch_total_size_bytes", () -> cas().batchUpdateBlobs(
        BatchUpdateBlobsRequest.newBuilder()
            .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(big)).setData(big))
            .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(big2)).setData(big2))
            .build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "exceeds max_batch_total_size_bytes", () -> cas().batchReadBlobs(
        BatchReadBlobsRequest.newBuilder().addDigests(Digests.of(big)).addDigests(Digests.of(big2)).build()));
  }

  @Test
  void blobsLargerThanTheStoreAreResourceExhausted() {
    Digest huge = Digests.of(Digests.of(ByteString.copyFromUtf8("x")).getHash(), 1L << 40);
    StreamObserverCollector<WriteResponse> response = new StreamObserverCollector<>();
    StreamObserver<WriteRequest> requests = ByteStreamGrpc.newStub(stack.channel).write(response);
    requests.onNext(WriteRequest.newBuilder().setResourceName("uploads/" + UUID.randomUUID() + "/blobs/"
        + Digests.toString(huge)).setData(ByteString.copyFromUtf8("x")).build());
    Throwable error = response.error.join();
    requests.onCompleted();
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, Status.fromThrowable(error).getCode());
    assertTrue(Status.fromThrowable(error).getDescription().contains("capacity"));
  }

  @Test
  void malformedDigestsAreInvalidArgumentsThatSayWhatIsWrong() {
    Digest shortHash = Digests.of("abc123", 3);
    Digest negative = Digests.of(Digests.of(ByteString.copyFromUtf8("y")).getHash(), -5);
    Digest upper = Digests.of(Digests.of(ByteString.copyFromUtf8("y")).getHash().toUpperCase(), 1);
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> cas().findMissingBlobs(
        FindMissingBlobsRequest.newBuilder().addBlobDigests(shortHash).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("6 characters"));
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    assertTrue(details.getDetailsList().stream().anyMatch(d -> d.is(BadRequest.class)), "carries a BadRequest");
    assertStatus(Status.Code.INVALID_ARGUMENT, "negative", () -> cas().findMissingBlobs(
        FindMissingBlobsRequest.newBuilder().addBlobDigests(negative).build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "lowercase", () -> actionCache().getActionResult(
        GetActionResultRequest.newBuilder().setActionDigest(upper).build()));
    BatchReadBlobsResponse read = cas().batchReadBlobs(BatchReadBlobsRequest.newBuilder().addDigests(negative).build());
    assertEquals(Code.INVALID_ARGUMENT_VALUE, read.getResponses(0).getStatus().getCode());
    assertStatus(Status.Code.INVALID_ARGUMENT, "BLAKE3 is not supported", () -> cas().findMissingBlobs(
        FindMissingBlobsRequest.newBuilder().setDigestFunction(DigestFunction.Value.BLAKE3).build()));
  }

  @Test
  void badResourceNamesAndReservedInstanceNamesAreInvalid() {
    Digest digest = Digests.of(ByteString.copyFromUtf8("r"));
    assertStatus(Status.Code.INVALID_ARGUMENT, "must have the form", () -> byteStream().read(
        ReadRequest.newBuilder().setResourceName("nonsense").build()).hasNext());
    assertStatus(Status.Code.INVALID_ARGUMENT, "not a number", () -> byteStream().read(
        ReadRequest.newBuilder().setResourceName("blobs/" + digest.getHash() + "/1x").build()).hasNext());
    assertStatus(Status.Code.INVALID_ARGUMENT, "reserved segment 'uploads'", () -> byteStream().read(
        ReadRequest.newBuilder().setResourceName("x/uploads/blobs/" + Digests.toString(digest)).build()).hasNext());
    assertStatus(Status.Code.INVALID_ARGUMENT, "reserved segment 'blobs'", () -> cas().findMissingBlobs(
        FindMissingBlobsRequest.newBuilder().setInstanceName("team/blobs").build()));
    assertStatus(Status.Code.INVALID_ARGUMENT, "reserved segment 'operations'", () -> actionCache().getActionResult(
        GetActionResultRequest.newBuilder().setInstanceName("operations").setActionDigest(digest).build()));
  }

  @Test
  void aDuplicateUploadCompletesEarlyWithTheFullSize() {
    ByteString data = randomBytes(3 << 20, 7);
    Digest digest = Digests.of(data);
    assertEquals(data.size(), upload("blobs/" + Digests.toString(digest), data, true));
    StreamObserverCollector<WriteResponse> response = new StreamObserverCollector<>();
    StreamObserver<WriteRequest> requests = ByteStreamGrpc.newStub(stack.channel).write(response);
    requests.onNext(WriteRequest.newBuilder().setResourceName("uploads/" + UUID.randomUUID() + "/blobs/"
        + Digests.toString(digest)).setData(data.substring(0, 1000)).build());
    WriteResponse early = response.value.join();
    assertEquals(data.size(), early.getCommittedSize(), "committed_size is the full size though 1000 bytes were sent");
    requests.onCompleted();
  }

  // --- ByteStream

  /** Uploads in 256 KiB chunks; returns committed_size. */
  private long upload(String blobPart, ByteString data, boolean finish) {
    StreamObserverCollector<WriteResponse> response = new StreamObserverCollector<>();
    StreamObserver<WriteRequest> requests = ByteStreamGrpc.newStub(stack.channel).write(response);
    String name = "uploads/" + UUID.randomUUID() + "/" + blobPart;
    int chunk = 256 << 10;
    for (int offset = 0; offset < data.size() || offset == 0; offset += chunk) {
      boolean last = offset + chunk >= data.size();
      requests.onNext(WriteRequest.newBuilder().setResourceName(offset == 0 ? name : "").setWriteOffset(offset)
          .setData(data.substring(offset, Math.min(data.size(), offset + chunk))).setFinishWrite(finish && last).build());
      if (data.isEmpty()) {
        break;
      }
    }
    requests.onCompleted();
    return response.value.join().getCommittedSize();
  }

  private ByteString read(String resourceName, long offset, long limit) {
    ByteString.Output out = ByteString.newOutput();
    byteStream().read(ReadRequest.newBuilder().setResourceName(resourceName).setReadOffset(offset).setReadLimit(limit)
        .build()).forEachRemaining(r -> out.write(r.getData().toByteArray(), 0, r.getData().size()));
    return out.toByteString();
  }

  @Test
  void readsHonourOffsetsAndLimits() {
    ByteString data = randomBytes(5 << 20, 3);
    Digest digest = Digests.of(data);
    upload("blobs/" + Digests.toString(digest), data, true);
    String name = "blobs/" + Digests.toString(digest);
    assertEquals(data, read(name, 0, 0));
    assertEquals(data.substring(1_000_000), read(name, 1_000_000, 0));
    assertEquals(data.substring(10, 110), read(name, 10, 100));
    assertEquals(ByteString.EMPTY, read(name, data.size(), 0));
    assertStatus(Status.Code.OUT_OF_RANGE, "outside the blob", () -> read(name, data.size() + 1, 0));
    assertStatus(Status.Code.INVALID_ARGUMENT, "read_limit", () -> read(name, 0, -1));
    assertStatus(Status.Code.NOT_FOUND, "not in the CAS", () -> read("blobs/" + Digests.toString(
        Digests.of(ByteString.copyFromUtf8("never uploaded"))), 0, 0));
  }

  @Test
  void anInterruptedUploadResumesWhereQueryWriteStatusSaysItStopped() throws Exception {
    ByteString data = randomBytes(1 << 20, 11);
    Digest digest = Digests.of(data);
    String name = "uploads/" + UUID.randomUUID() + "/blobs/" + Digests.toString(digest);
    int half = data.size() / 2;

    CompletableFuture<ClientCallStreamObserver<WriteRequest>> call = new CompletableFuture<>();
    ByteStreamGrpc.newStub(stack.channel).write(new ClientResponseObserver<WriteRequest, WriteResponse>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<WriteRequest> stream) {
        call.complete(stream);
      }

      @Override
      public void onNext(WriteResponse value) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    });
    ClientCallStreamObserver<WriteRequest> first = call.join();
    first.onNext(WriteRequest.newBuilder().setResourceName(name).setData(data.substring(0, half)).build());
    QueryWriteStatusResponse status = awaitCommitted(name, half);
    assertFalse(status.getComplete());
    first.cancel("connection lost", null);

    StreamObserverCollector<WriteResponse> response = new StreamObserverCollector<>();
    StreamObserver<WriteRequest> second = ByteStreamGrpc.newStub(stack.channel).write(response);
    second.onNext(WriteRequest.newBuilder().setResourceName(name).setWriteOffset(status.getCommittedSize())
        .setData(data.substring(half)).setFinishWrite(true).build());
    second.onCompleted();
    assertEquals(data.size(), response.value.join().getCommittedSize());
    assertEquals(data, read("blobs/" + Digests.toString(digest), 0, 0));
    QueryWriteStatusResponse done = byteStream().queryWriteStatus(
        QueryWriteStatusRequest.newBuilder().setResourceName(name).build());
    assertTrue(done.getComplete());
    assertEquals(data.size(), done.getCommittedSize());
  }

  private QueryWriteStatusResponse awaitCommitted(String name, long size) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      try {
        QueryWriteStatusResponse status = byteStream().queryWriteStatus(
            QueryWriteStatusRequest.newBuilder().setResourceName(name).build());
        if (status.getCommittedSize() == size || System.nanoTime() > deadline) {
          assertEquals(size, status.getCommittedSize());
          return status;
        }
      } catch (StatusRuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
      Thread.sleep(10);
    }
  }

  /** Calls of one method the worker has served so far, from its metrics. */
  private double workerCalls(String method) throws Exception {
    return AdminMetrics.value(stack.worker.adminPort(),
        "rex_grpc_server_requests_total{code=\"OK\",method=\"" + method + "\"}");
  }

  @Test
  void aWholeSmallBlobInOneRequestReachesTheWorkerAsOneBatchWriteWithNoPresenceCheck() throws Exception {
    ByteString data = randomBytes(10_000, 8);
    String findMissing = "build.bazel.remote.execution.v2.ContentAddressableStorage/FindMissingBlobs";
    String batchUpdate = "build.bazel.remote.execution.v2.ContentAddressableStorage/BatchUpdateBlobs";
    String write = "google.bytestream.ByteStream/Write";
    double checksBefore = workerCalls(findMissing), batchesBefore = workerCalls(batchUpdate), writesBefore = workerCalls(write);

    assertEquals(data.size(), upload("blobs/" + Digests.toString(Digests.of(data)), data, true));
    assertEquals(data.size(), upload("blobs/" + Digests.toString(Digests.of(data)), data, true), "again: already stored");

    assertEquals(data, read("blobs/" + Digests.toString(Digests.of(data)), 0, 0));
    // A call is counted once the worker's side of it has closed, which may come just after the scheduler has its answer.
    Await.holds("both uploads reached the worker as batch writes", () -> workerCalls(batchUpdate) == batchesBefore + 2);
    assertEquals(checksBefore, workerCalls(findMissing), "no presence check before either upload");
    assertEquals(writesBefore, workerCalls(write), "no stream was opened to the worker");
  }

  @Test
  void uploadsWithTheWrongOffsetOrContentAreRejected() {
    ByteString data = randomBytes(1000, 5);
    Digest digest = Digests.of(data);
    StreamObserverCollector<WriteResponse> response = new StreamObserverCollector<>();
    StreamObserver<WriteRequest> requests = ByteStreamGrpc.newStub(stack.channel).write(response);
    String name = "uploads/" + UUID.randomUUID() + "/blobs/" + Digests.toString(digest);
    requests.onNext(WriteRequest.newBuilder().setResourceName(name).setData(data.substring(0, 10)).build());
    requests.onNext(WriteRequest.newBuilder().setWriteOffset(20).setData(data.substring(10)).build());
    assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(response.error.join()).getCode());
    requests.onCompleted();

    ByteString other = randomBytes(1000, 6);
    java.util.concurrent.CompletionException mismatch = assertThrows(java.util.concurrent.CompletionException.class,
        () -> upload("blobs/" + Digests.toString(digest), other, true));
    assertEquals(Status.Code.INVALID_ARGUMENT, Status.fromThrowable(mismatch.getCause()).getCode());
    assertTrue(Status.fromThrowable(mismatch.getCause()).getDescription().contains("does not match digest"));
    assertEquals(List.of(digest), cas().findMissingBlobs(FindMissingBlobsRequest.newBuilder().addBlobDigests(digest)
        .build()).getMissingBlobDigestsList(), "a rejected upload leaves no blob");
  }

  @Test
  void zstdRoundTripsThroughByteStreamAndBatches() {
    ByteString data = ByteString.copyFromUtf8("compressible ".repeat(200_000));
    Digest digest = Digests.of(data);
    byte[] compressed = com.github.luben.zstd.Zstd.compress(data.toByteArray(), 3);
    long committed = upload("compressed-blobs/zstd/" + Digests.toString(digest), ByteString.copyFrom(compressed), true);
    assertEquals(compressed.length, committed);
    assertEquals(data, read("blobs/" + Digests.toString(digest), 0, 0));
    ByteString zstdRead = read("compressed-blobs/zstd/" + Digests.toString(digest), 0, 0);
    assertTrue(zstdRead.size() < data.size() / 10, "served compressed");
    assertEquals(data, ByteString.copyFrom(com.github.luben.zstd.Zstd.decompress(zstdRead.toByteArray(), data.size())));
    assertEquals(data.substring(1000), ByteString.copyFrom(com.github.luben.zstd.Zstd.decompress(
        read("compressed-blobs/zstd/" + Digests.toString(digest), 1000, 0).toByteArray(), data.size() - 1000)));
    assertStatus(Status.Code.INVALID_ARGUMENT, "read_limit must be 0", () ->
        read("compressed-blobs/zstd/" + Digests.toString(digest), 0, 10));

    ByteString small = ByteString.copyFromUtf8("batch ".repeat(1000));
    BatchUpdateBlobsResponse batch = cas().batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
        .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(small))
            .setCompressor(Compressor.Value.ZSTD).setData(ByteString.copyFrom(com.github.luben.zstd.Zstd.compress(small.toByteArray()))))
        .build());
    assertEquals(Code.OK_VALUE, batch.getResponses(0).getStatus().getCode(), batch.toString());
    assertEquals(small, read("blobs/" + Digests.toString(Digests.of(small)), 0, 0));

    ByteString again = randomBytes(3000, 9);
    assertEquals(-1, upload("compressed-blobs/zstd/" + Digests.toString(digest),
        ByteString.copyFrom(com.github.luben.zstd.Zstd.compress(again.toByteArray())), false),
        "a compressed duplicate upload ends early with committed_size -1");
  }

  // --- GetTree

  @Test
  void getTreePagesThroughADeepTreeAndResumesFromAToken() {
    int depth = 60;
    List<Directory> directories = new ArrayList<>();
    Directory shared = Directory.newBuilder().addFiles(build.bazel.remote.execution.v2.FileNode.newBuilder()
        .setName("leaf.txt").setDigest(Digests.of(ByteString.copyFromUtf8("leaf")))).build();
    Directory below = shared;
    directories.add(shared);
    for (int level = depth; level > 0; level--) {
      below = Directory.newBuilder()
          .addDirectories(DirectoryNode.newBuilder().setName("a").setDigest(Digests.of(below)))
          .addDirectories(DirectoryNode.newBuilder().setName("shared").setDigest(Digests.of(shared)))
          .addFiles(build.bazel.remote.execution.v2.FileNode.newBuilder().setName("level" + level)
              .setDigest(Digests.of(ByteString.copyFromUtf8("f" + level))))
          .build();
      directories.add(below);
    }
    Directory root = below;
    batchUpload(directories.stream().map(Directory::toByteString).toArray(ByteString[]::new));

    List<GetTreeResponse> pages = new ArrayList<>();
    cas().getTree(GetTreeRequest.newBuilder().setRootDigest(Digests.of(root)).setPageSize(7).build())
        .forEachRemaining(pages::add);
    List<Directory> streamed = pages.stream().flatMap(p -> p.getDirectoriesList().stream()).toList();
    assertEquals(directories.size(), streamed.size(), "each distinct directory once");
    assertEquals(new HashSet<>(directories), new HashSet<>(streamed));
    assertEquals(root, streamed.get(0));
    pages.forEach(p -> assertTrue(p.getDirectoriesCount() <= 7));
    assertTrue(pages.get(pages.size() - 1).getNextPageToken().isEmpty());

    String token = pages.get(3).getNextPageToken();
    List<Directory> rest = new ArrayList<>();
    cas().getTree(GetTreeRequest.newBuilder().setRootDigest(Digests.of(root)).setPageSize(7).setPageToken(token).build())
        .forEachRemaining(p -> rest.addAll(p.getDirectoriesList()));
    assertEquals(streamed.subList(28, streamed.size()), rest, "a token resumes in a new call");

    assertStatus(Status.Code.NOT_FOUND, "not in the CAS", () -> cas().getTree(GetTreeRequest.newBuilder()
        .setRootDigest(Digests.of(ByteString.copyFromUtf8("no such root"))).build()).hasNext());
    assertStatus(Status.Code.INVALID_ARGUMENT, "page_token", () -> cas().getTree(GetTreeRequest.newBuilder()
        .setRootDigest(Digests.of(root)).setPageToken("bogus").build()).hasNext());
  }

  @Test
  void getTreeLeavesOutMissingSubtrees() {
    Directory missingChild = Directory.newBuilder().addFiles(build.bazel.remote.execution.v2.FileNode.newBuilder()
        .setName("gone").setDigest(Digests.EMPTY)).build();
    Directory present = Directory.newBuilder().build();
    Directory root = Directory.newBuilder()
        .addDirectories(DirectoryNode.newBuilder().setName("a").setDigest(Digests.of(missingChild)))
        .addDirectories(DirectoryNode.newBuilder().setName("b").setDigest(Digests.of(present)))
        .build();
    batchUpload(root.toByteString(), present.toByteString());
    List<Directory> streamed = new ArrayList<>();
    cas().getTree(GetTreeRequest.newBuilder().setRootDigest(Digests.of(root)).build())
        .forEachRemaining(p -> streamed.addAll(p.getDirectoriesList()));
    assertEquals(List.of(root, present), streamed);
  }

  // --- Action Cache

  @Test
  void actionCacheKeepsInstancesApartAndOnlyServesCompleteEntries() {
    ByteString output = ByteString.copyFromUtf8("output bytes");
    ByteString stdout = ByteString.copyFromUtf8("stdout bytes");
    Digest action = Digests.of(ByteString.copyFromUtf8("an action"));
    ActionResult result = ActionResult.newBuilder()
        .addOutputFiles(OutputFile.newBuilder().setPath("out/file").setDigest(Digests.of(output)))
        .setStdoutDigest(Digests.of(stdout))
        .setExitCode(0)
        .build();
    actionCache().updateActionResult(UpdateActionResultRequest.newBuilder().setInstanceName("team-a")
        .setActionDigest(action).setActionResult(result).build());
    assertStatus(Status.Code.NOT_FOUND, "no result", () -> actionCache().getActionResult(
        GetActionResultRequest.newBuilder().setInstanceName("team-a").setActionDigest(action).build()));

    batchUpload(output, stdout);
    ActionResult hit = actionCache().getActionResult(GetActionResultRequest.newBuilder().setInstanceName("team-a")
        .setActionDigest(action).setInlineStdout(true).addInlineOutputFiles("out/file").build());
    assertEquals(stdout, hit.getStdoutRaw());
    assertEquals(output, hit.getOutputFiles(0).getContents());
    assertStatus(Status.Code.NOT_FOUND, "no result", () -> actionCache().getActionResult(
        GetActionResultRequest.newBuilder().setInstanceName("team-b").setActionDigest(action).build()));
    assertStatus(Status.Code.NOT_FOUND, "no result", () -> actionCache().getActionResult(
        GetActionResultRequest.newBuilder().setActionDigest(action).build()));
  }

  @Test
  void restartKeepsTheCasAndTheActionCache() throws Exception {
    ByteString blob = randomBytes(2 << 20, 21);
    upload("blobs/" + Digests.toString(Digests.of(blob)), blob, true);
    Digest action = Digests.of(ByteString.copyFromUtf8("restart action"));
    ActionResult result = ActionResult.newBuilder()
        .addOutputFiles(OutputFile.newBuilder().setPath("big").setDigest(Digests.of(blob))).build();
    actionCache().updateActionResult(UpdateActionResultRequest.newBuilder().setActionDigest(action)
        .setActionResult(result).build());

    stack.restart();

    assertEquals(result, actionCache().getActionResult(GetActionResultRequest.newBuilder().setActionDigest(action).build()));
    assertEquals(blob, read("blobs/" + Digests.toString(Digests.of(blob)), 0, 0));
  }

  /** Collects the single response or error of a client-streaming call. */
  static final class StreamObserverCollector<T> implements StreamObserver<T> {
    final CompletableFuture<T> value = new CompletableFuture<>();
    final CompletableFuture<Throwable> error = new CompletableFuture<>();

    @Override
    public void onNext(T v) {
      value.complete(v);
    }

    @Override
    public void onError(Throwable t) {
      error.complete(t);
      value.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
      error.complete(null);
    }
  }
}
