package build.rex.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.rex.storage.Digests;
import build.rex.storage.remote.GrpcBlobStore;
import com.google.protobuf.ByteString;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backup to S3-compatible object storage, against a real S3 server on loopback (s3proxy over a
 * folder): a cluster that loses every disk starts again with all of its blobs and results.
 */
class BackupTest {
  @TempDir Path scratch;
  private S3Proxy s3;
  private BlobStoreContext objects;

  @BeforeEach
  void startObjectStorage() throws Exception {
    Properties properties = new Properties();
    properties.setProperty("jclouds.filesystem.basedir", Files.createDirectories(scratch.resolve("s3")).toString());
    objects = ContextBuilder.newBuilder("filesystem").overrides(properties).build(BlobStoreContext.class);
    objects.getBlobStore().createContainerInLocation(null, "rex-backup");
    s3 = S3Proxy.builder().blobStore(objects.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "rex-access", "rex-secret").build();
    s3.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!"STARTED".equals(s3.getState()) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  @AfterEach
  void stopObjectStorage() throws Exception {
    s3.stop();
    objects.close();
  }

  private void backUpTo(SchedulerConfig config) {
    try {
      config.backup.enabled = true;
      config.backup.endpoint = "http://127.0.0.1:" + s3.getPort();
      config.backup.bucket = "rex-backup";
      config.backup.prefix = "test/";
      config.backup.accessKeyIdFile = Files.writeString(scratch.resolve("access"), "rex-access\n").toString();
      config.backup.secretAccessKeyFile = Files.writeString(scratch.resolve("secret"), "rex-secret\n").toString();
      config.backup.spoolPath = scratch.resolve("spool").toString();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private long objectsStored() {
    return objects.getBlobStore().list("rex-backup", org.jclouds.blobstore.options.ListContainerOptions.Builder.recursive())
        .stream().filter(o -> o.getType() == org.jclouds.blobstore.domain.StorageType.BLOB).count();
  }

  @Test
  void aClusterThatLostEveryDiskComesBackFromTheBackup() throws Exception {
    Path data = scratch.resolve("cluster");
    List<Digest> digests = new ArrayList<>();
    BatchUpdateBlobsRequest.Builder upload = BatchUpdateBlobsRequest.newBuilder();
    for (int i = 0; i < 50; i++) {
      ByteString blob = ByteString.copyFromUtf8("backed up blob " + i);
      digests.add(Digests.of(blob));
      upload.addRequestsBuilder().setDigest(Digests.of(blob)).setData(blob);
    }
    ByteString big = ByteString.copyFrom(new byte[6 << 20]); // through ByteStream, not a batch
    Digest bigDigest = Digests.of(big);
    ActionResult result = ActionResult.newBuilder().setExitCode(0)
        .addOutputFiles(OutputFile.newBuilder().setPath("out").setDigest(digests.get(0))).build();

    try (LocalStack stack = new LocalStack(data, 64 << 20, 2, 0, 2, this::backUpTo)) {
      ContentAddressableStorageGrpc.newBlockingStub(stack.channel).batchUpdateBlobs(upload.build());
      new GrpcBlobStore(stack.channel, "scheduler").put(bigDigest, big);
      ActionCacheGrpc.newBlockingStub(stack.channel).updateActionResult(UpdateActionResultRequest.newBuilder()
          .setActionDigest(digests.get(1)).setActionResult(result).build());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (objectsStored() < 52 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(52, objectsStored(), "51 blobs and 1 Action Cache entry in the bucket");
    }

    try (Stream<Path> files = Files.walk(data)) { // every disk lost
      files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    }

    try (LocalStack stack = new LocalStack(data, 64 << 20, 2, 0, 2, this::backUpTo)) {
      var cas = ContentAddressableStorageGrpc.newBlockingStub(stack.channel);
      assertEquals(0, stack.workers.get(0).cas().blobCount() + stack.workers.get(1).cas().blobCount());
      assertEquals(result, ActionCacheGrpc.newBlockingStub(stack.channel).getActionResult(
          GetActionResultRequest.newBuilder().setActionDigest(digests.get(1)).build()), "the entry comes back");
      assertEquals(List.of(), cas.findMissingBlobs(FindMissingBlobsRequest.newBuilder().addAllBlobDigests(digests)
          .addBlobDigests(bigDigest).build()).getMissingBlobDigestsList(), "every blob comes back");
      assertEquals(50, cas.batchReadBlobs(BatchReadBlobsRequest.newBuilder().addAllDigests(digests).build())
          .getResponsesList().stream().filter(r -> r.getStatus().getCode() == 0).count());
      assertEquals(big, new GrpcBlobStore(stack.channel, "scheduler").get(bigDigest));
      assertEquals(2, stack.workers.stream().filter(w -> w.cas().findMissing(List.of(bigDigest)).isEmpty()).count(),
          "restored blobs are back on both of their owners");
    }
  }
}
