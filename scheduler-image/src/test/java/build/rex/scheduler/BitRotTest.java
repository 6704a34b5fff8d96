package build.rex.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import build.rex.storage.Digests;
import build.rex.storage.replication.Placement;
import build.rex.worker.WorkerServer;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.longrunning.Operation;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A byte flipped in a stored blob's file, as a failing disk does, under a scheduler and three
 * workers (two copies of each blob): every read path through the scheduler returns intact bytes,
 * the bad copy is quarantined and an intact one is put back. With one copy the read says the blob
 * is gone, never returning the bad bytes.
 */
class BitRotTest {
  @TempDir Path dataDir;
  private LocalStack stack;
  private Placement<WorkerServer> placement;

  @BeforeEach
  void start() throws Exception {
    stack = new LocalStack(dataDir, 64 << 20, 3, 1, 2, BitRotTest::readFromDisk);
    Map<String, WorkerServer> byId = new LinkedHashMap<>();
    stack.workers.forEach(w -> byId.put(w.workerId(), w));
    placement = new Placement<>(byId, Map.of(), 2); // the scheduler's placement: same ids, same rendezvous
  }

  @AfterEach
  void stop() throws Exception {
    stack.close();
  }

  /**
   * The scheduler's memory would serve the blobs these tests upload from what it was sent; they
   * are about reading the copies on the workers' disks.
   */
  private static void readFromDisk(SchedulerConfig config) {
    config.cas.memoryCacheSize = build.rex.config.ByteSize.ofBytes(0);
  }

  private Digest upload(ByteString blob) {
    var response = ContentAddressableStorageGrpc.newBlockingStub(stack.channel).batchUpdateBlobs(
        BatchUpdateBlobsRequest.newBuilder().addRequests(BatchUpdateBlobsRequest.Request.newBuilder()
            .setDigest(Digests.of(blob)).setData(blob)).build());
    assertEquals(0, response.getResponses(0).getStatus().getCode(), response.toString());
    return Digests.of(blob);
  }

  private static ByteString random(int size, int seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return ByteString.copyFrom(data);
  }

  /** Flips one byte of the copy on the owner the scheduler reads first; returns that worker. */
  private WorkerServer rotFirstCopy(Digest digest) throws Exception {
    WorkerServer first = placement.owners(digest.getHash()).get(0);
    Path file = first.cas().blobPath(digest);
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      long at = digest.getSizeBytes() / 2;
      raf.seek(at);
      int b = raf.read();
      raf.seek(at);
      raf.write(b ^ 0x01);
    }
    return first;
  }

  private long copies(Digest digest) {
    return stack.workers.stream().filter(w -> w.cas().findMissing(List.of(digest)).isEmpty()).count();
  }

  /** The bad copy was taken out and an intact one put back where it was. */
  private void awaitRepaired(WorkerServer rotted, Digest digest, ByteString data) throws Exception {
    assertTrue(rotted.cas().isolatedBlobs() >= 1, "the bad copy was quarantined");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!(copies(digest) == 2 && rotted.cas().findMissing(List.of(digest)).isEmpty()
        && data.equals(ByteString.copyFrom(Files.readAllBytes(rotted.cas().blobPath(digest)))))) {
      assertTrue(System.nanoTime() < deadline, "two intact copies again; now " + copies(digest));
      Thread.sleep(50);
    }
  }

  private ByteString byteStreamRead(Digest digest) {
    ByteString out = ByteString.EMPTY;
    Iterator<ReadResponse> responses = ByteStreamGrpc.newBlockingStub(stack.channel).read(ReadRequest.newBuilder()
        .setResourceName("blobs/" + digest.getHash() + "/" + digest.getSizeBytes()).build());
    while (responses.hasNext()) {
      out = out.concat(responses.next().getData());
    }
    return out;
  }

  @Test
  void batchReadBlobsReturnsTheIntactCopy() throws Exception {
    ByteString data = random(5000, 1);
    Digest digest = upload(data);
    WorkerServer rotted = rotFirstCopy(digest);
    var response = ContentAddressableStorageGrpc.newBlockingStub(stack.channel)
        .batchReadBlobs(BatchReadBlobsRequest.newBuilder().addDigests(digest).build()).getResponses(0);
    assertEquals(0, response.getStatus().getCode(), response.getStatus().getMessage());
    assertEquals(data, response.getData());
    awaitRepaired(rotted, digest, data);
  }

  @Test
  void byteStreamReturnsTheIntactCopy() throws Exception {
    ByteString data = random(200_000, 2);
    Digest digest = upload(data);
    WorkerServer rotted = rotFirstCopy(digest);
    assertEquals(data, byteStreamRead(digest));
    awaitRepaired(rotted, digest, data);
  }

  @Test
  void aLargeBlobReadFailsRatherThanEndWithBadBytesAndTheRetryIsIntact() throws Exception {
    ByteString data = random(3 << 20, 3);
    Digest digest = Digests.of(data);
    try (var writer = new build.rex.storage.remote.GrpcBlobStore(stack.channel, "scheduler").newWriter(digest)) {
      writer.write(data);
      writer.commit();
    }
    WorkerServer rotted = rotFirstCopy(digest);
    try {
      assertEquals(data, byteStreamRead(digest), "a stream that completes carries intact bytes");
    } catch (StatusRuntimeException e) {
      assertEquals(Status.Code.DATA_LOSS, e.getStatus().getCode(), e.toString()); // found before the last byte
    }
    assertEquals(data, byteStreamRead(digest), "the next read is served by the intact copy");
    awaitRepaired(rotted, digest, data);
  }

  @Test
  void getTreeReturnsTheIntactDirectory() throws Exception {
    Directory child = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("f")
        .setDigest(upload(ByteString.copyFromUtf8("leaf")))).build();
    Digest childDigest = upload(child.toByteString());
    Directory root = Directory.newBuilder().addDirectories(build.bazel.remote.execution.v2.DirectoryNode.newBuilder()
        .setName("sub").setDigest(childDigest)).build();
    Digest rootDigest = upload(root.toByteString());
    WorkerServer rotted = rotFirstCopy(childDigest);
    Iterator<GetTreeResponse> pages = ContentAddressableStorageGrpc.newBlockingStub(stack.channel)
        .getTree(GetTreeRequest.newBuilder().setRootDigest(rootDigest).build());
    List<Directory> directories = new java.util.ArrayList<>();
    pages.forEachRemaining(page -> directories.addAll(page.getDirectoriesList()));
    assertEquals(List.of(root, child), directories);
    awaitRepaired(rotted, childDigest, child.toByteString());
  }

  @Test
  void anActionComputesFromTheIntactInput() throws Exception {
    ByteString input = random(100_000, 4);
    Digest inputDigest = upload(input);
    WorkerServer rotted = rotFirstCopy(inputDigest);
    Command command = Command.newBuilder().addArguments("/bin/sh").addArguments("-c").addArguments("cat in.bin > out.bin")
        .addEnvironmentVariables(Command.EnvironmentVariable.newBuilder().setName("PATH").setValue("/usr/bin:/bin"))
        .addOutputPaths("out.bin").build();
    Directory root = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("in.bin").setDigest(inputDigest)).build();
    Action action = Action.newBuilder().setCommandDigest(upload(command.toByteString()))
        .setInputRootDigest(upload(root.toByteString())).build();
    Iterator<Operation> operations = ExecutionGrpc.newBlockingStub(stack.channel).execute(ExecuteRequest.newBuilder()
        .setActionDigest(upload(action.toByteString())).build());
    Operation last = null;
    while (operations.hasNext()) {
      last = operations.next();
    }
    ExecuteResponse response = last.getResponse().unpack(ExecuteResponse.class);
    assertEquals(0, response.getStatus().getCode(), response.getStatus().getMessage());
    assertEquals(0, response.getResult().getExitCode(), response.getResult().toString());
    assertEquals(inputDigest, response.getResult().getOutputFiles(0).getDigest(), "the output is the intact input");
    if (rotted.cas().isolatedBlobs() == 0) {
      // The action ran where the intact copy is, so nothing read the bad one: the scrubber finds it.
      rotted.scrubber().passOnce();
    }
    awaitRepaired(rotted, inputDigest, input);
  }

  @Test
  void withTheOnlyCopyRottenTheReadSaysTheBlobIsGoneAndNeverReturnsIt() throws Exception {
    try (LocalStack single = new LocalStack(dataDir.resolve("single"), 64 << 20, 1, 0, 1,
        BitRotTest::readFromDisk)) {
      ByteString data = random(5000, 5);
      Digest digest = Digests.of(data);
      ContentAddressableStorageGrpc.newBlockingStub(single.channel).batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
          .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(digest).setData(data)).build());
      Path file = single.worker.cas().blobPath(digest);
      byte[] rotten = Files.readAllBytes(file);
      rotten[0] ^= 0x01;
      Files.write(file, rotten);
      var response = ContentAddressableStorageGrpc.newBlockingStub(single.channel)
          .batchReadBlobs(BatchReadBlobsRequest.newBuilder().addDigests(digest).build()).getResponses(0);
      assertEquals(io.grpc.Status.Code.NOT_FOUND.value(), response.getStatus().getCode(), response.getStatus().getMessage());
      assertTrue(response.getData().isEmpty());
      StatusRuntimeException streamed = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class, () ->
          ByteStreamGrpc.newBlockingStub(single.channel).read(ReadRequest.newBuilder()
              .setResourceName("blobs/" + digest.getHash() + "/" + digest.getSizeBytes()).build()).forEachRemaining(r -> {
                throw new AssertionError("no bytes of the blob may be returned");
              }));
      assertEquals(Status.Code.NOT_FOUND, streamed.getStatus().getCode());
      assertEquals(1, single.worker.cas().isolatedBlobs());
      assertEquals(1, ContentAddressableStorageGrpc.newBlockingStub(single.channel).findMissingBlobs(
          build.bazel.remote.execution.v2.FindMissingBlobsRequest.newBuilder().addBlobDigests(digest).build())
          .getMissingBlobDigestsCount(), "reported missing, so Bazel uploads it again");
    }
  }
}
