package build.rex.worker.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.Digests;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import build.rex.storage.transfer.Batches;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many small inputs or outputs move in batches of bounded size, never all at once: an input tree
 * of 100,000 files, an action with 20,000 outputs (whose Tree message, over 1 MiB, is streamed).
 * The heap in use at each batch is reported, not asserted (it depends on the JVM and the machine).
 */
class BoundedTransfersTest {
  private static final int INPUTS = 100_000;
  private static final int OUTPUTS = 20_000;
  @TempDir Path dir;

  /** A disk store that remembers the largest batch it was asked to read or write. */
  private static final class BatchRecorder implements BlobStore {
    final DiskBlobStore disk;
    final AtomicLong largestBatchBytes = new AtomicLong();
    final AtomicLong batches = new AtomicLong();
    final AtomicLong peakHeapBytes = new AtomicLong();

    BatchRecorder(DiskBlobStore disk) {
      this.disk = disk;
    }

    private void record(long bytes) {
      batches.incrementAndGet();
      largestBatchBytes.accumulateAndGet(bytes, Math::max);
      System.gc(); // what is live at the batch, not garbage waiting for a collection
      Runtime runtime = Runtime.getRuntime();
      peakHeapBytes.accumulateAndGet(runtime.totalMemory() - runtime.freeMemory(), Math::max);
    }

    void report(String what) {
      System.out.printf("%s: %d batches, the largest %d bytes; live heap at a batch at most %d MiB%n", what,
          batches.get(), largestBatchBytes.get(), peakHeapBytes.get() >> 20);
    }

    @Override
    public Set<Digest> findMissing(Collection<Digest> digests) {
      return disk.findMissing(digests);
    }

    @Override
    public InputStream openRead(Digest digest, long offset) throws IOException {
      return disk.openRead(digest, offset);
    }

    @Override
    public BlobWriter newWriter(Digest digest) throws IOException {
      return disk.newWriter(digest);
    }

    @Override
    public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
      record(digests.stream().mapToLong(Digest::getSizeBytes).sum());
      return disk.getBatch(digests);
    }

    @Override
    public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
      record(blobs.values().stream().mapToLong(ByteString::size).sum());
      return disk.putBatch(blobs);
    }
  }

  private DiskBlobStore disk(String name) throws IOException {
    return DiskBlobStore.open(dir.resolve(name), new DiskStoreSettings(1L << 32, 0.8, 0.9, false));
  }

  private static ByteString content(int i) {
    return ByteString.copyFrom(("small file number " + i + "\n").repeat(12), StandardCharsets.UTF_8);
  }

  @Test
  void anActionWithTwentyThousandOutputsUploadsThemInBoundedBatches() throws Exception {
    Path root = Files.createDirectories(dir.resolve("exec"));
    Path out = Files.createDirectories(root.resolve("out"));
    for (int i = 0; i < OUTPUTS; i++) {
      Path sub = Files.createDirectories(out.resolve(Integer.toString(i % 100)));
      Files.write(sub.resolve(i + ".txt"), content(i).toByteArray());
    }
    BatchRecorder cluster = new BatchRecorder(disk("cluster"));
    DiskBlobStore local = disk("local");
    OutputCollector collector = new OutputCollector(cluster, local);
    ActionResult.Builder result = ActionResult.newBuilder();
    collector.collect(Command.newBuilder().addOutputPaths("out").build(), root, root, result);
    collector.upload();
    assertEquals(1, result.getOutputDirectoriesCount());
    cluster.report(OUTPUTS + " outputs");
    assertTrue(cluster.disk.blobCount() >= OUTPUTS, "every output arrived: " + cluster.disk.blobCount());
    assertEquals(content(12_345), cluster.disk.get(Digests.of(content(12_345))));
    assertEquals(OUTPUTS, local.blobCount(), "the worker keeps each output file, linked");
    assertTrue(cluster.largestBatchBytes.get() <= Batches.MAX_BATCH_BYTES, "largest batch: " + cluster.largestBatchBytes);
    assertTrue(cluster.batches.get() > 1, "in several batches: " + cluster.batches);
  }

  @Test
  void aHundredThousandInputsAreFetchedInBoundedBatches() throws Exception {
    BatchRecorder cluster = new BatchRecorder(disk("cluster"));
    List<Digest> inputs = new ArrayList<>();
    Map<Digest, ByteString> upload = new java.util.HashMap<>();
    for (int i = 0; i < INPUTS; i++) {
      inputs.add(Digests.of(content(i)));
      upload.put(Digests.of(content(i)), content(i));
      if (upload.size() == 10_000) {
        assertEquals(Map.of(), cluster.disk.putBatch(upload));
        upload.clear();
      }
    }
    DiskBlobStore local = disk("local");
    new InputFetcher(cluster, local).fetch(inputs);
    cluster.report(INPUTS + " inputs");
    assertEquals(INPUTS, local.blobCount());
    assertTrue(cluster.largestBatchBytes.get() <= Batches.MAX_BATCH_BYTES, "largest batch: " + cluster.largestBatchBytes);
    assertTrue(cluster.batches.get() > 1, "in several batches: " + cluster.batches);
  }
}
