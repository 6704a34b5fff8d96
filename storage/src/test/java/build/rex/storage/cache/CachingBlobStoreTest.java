package build.rex.storage.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.DigestMismatchException;
import build.rex.storage.Digests;
import build.rex.storage.ForwardingBlobStore;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CachingBlobStoreTest {
  @TempDir Path dir;
  private DiskBlobStore disk;
  private CountingReads below;

  @BeforeEach
  void setUp() throws IOException {
    disk = DiskBlobStore.open(dir, new DiskStoreSettings(1 << 30, 0.5, 0.9, false));
    below = new CountingReads(disk);
  }

  @Test
  void whatWasWrittenThroughItIsReadBackWithoutAskingBelow() throws IOException {
    CachingBlobStore cache = new CachingBlobStore(below, 1 << 20, 1 << 16);
    ByteString put = blob("put"), streamed = blob("streamed"), batched = blob("batched");
    cache.put(Digests.of(put), put);
    try (BlobWriter writer = cache.newWriter(Digests.of(streamed))) {
      writer.write(streamed.substring(0, 3));
      writer.write(streamed.substring(3));
      writer.commit();
    }
    assertEquals(Map.of(), cache.putBatch(Map.of(Digests.of(batched), batched)));

    assertEquals(put, cache.get(Digests.of(put)));
    assertEquals(streamed.substring(2), ByteString.readFrom(cache.openRead(Digests.of(streamed), 2)));
    assertEquals(Map.of(Digests.of(batched), batched, Digests.of(put), put),
        cache.getBatch(List.of(Digests.of(batched), Digests.of(put))));
    assertEquals(0, below.reads.get(), "every read was served from memory");
    assertEquals(put, disk.get(Digests.of(put)), "and the store below has them all");
    assertEquals(streamed, disk.get(Digests.of(streamed)));
    assertEquals(batched, disk.get(Digests.of(batched)));
  }

  @Test
  void aBlobReadOnceIsServedFromMemoryAfterwardsAndABatchAsksBelowOnlyForTheRest() throws IOException {
    CachingBlobStore cache = new CachingBlobStore(below, 1 << 20, 1 << 16);
    ByteString one = stored("one"), two = stored("two");

    assertEquals(one, cache.get(Digests.of(one)));
    assertEquals(one, ByteString.readFrom(cache.openRead(Digests.of(one), 0)));
    assertEquals(1, below.reads.get());
    assertEquals(Map.of(Digests.of(one), one, Digests.of(two), two),
        cache.getBatch(List.of(Digests.of(one), Digests.of(two))));
    assertEquals(List.of(Digests.of(two)), below.lastBatch, "only the blob not in memory was asked for");
    assertEquals(2, cache.hits());
  }

  @Test
  void presenceIsAlwaysAskedBelow() throws IOException {
    CachingBlobStore cache = new CachingBlobStore(below, 1 << 20, 1 << 16);
    ByteString kept = stored("kept");
    cache.get(Digests.of(kept));
    disk.isolate(Digests.of(kept), "the test took it away");

    assertEquals(Set.of(Digests.of(kept)), cache.findMissing(List.of(Digests.of(kept))),
        "memory does not say a blob is stored when the store below lost it");
  }

  @Test
  void theLeastRecentlyUsedBlobsGoFirstAndLargeBlobsPassThrough() throws IOException {
    ByteString a = stored("a".repeat(100)), b = stored("b".repeat(100)), c = stored("c".repeat(100));
    ByteString large = stored("L".repeat(400));
    CachingBlobStore cache = new CachingBlobStore(below, 250, 200);
    cache.get(Digests.of(a));
    cache.get(Digests.of(b));
    cache.get(Digests.of(a)); // a is now more recent than b
    cache.get(Digests.of(c)); // over 250 bytes: b goes
    int reads = below.reads.get();

    cache.get(Digests.of(a));
    cache.get(Digests.of(c));
    assertEquals(reads, below.reads.get(), "a and c stayed");
    cache.get(Digests.of(b));
    assertEquals(reads + 1, below.reads.get(), "b was dropped");
    cache.get(Digests.of(large));
    cache.get(Digests.of(large));
    assertEquals(reads + 3, below.reads.get(), "a blob over the largest kept is read below every time");
    assertEquals(true, cache.bytes() <= 250, cache.bytes() + " bytes kept");
  }

  @Test
  void aFailedUploadOrAbsentBlobKeepsNothing() throws IOException {
    CachingBlobStore cache = new CachingBlobStore(below, 1 << 20, 1 << 16);
    ByteString data = blob("real");
    Digest digest = Digests.of(data);
    try (BlobWriter writer = cache.newWriter(digest)) {
      writer.write(blob("fake"));
      assertThrows(DigestMismatchException.class, writer::commit);
    }
    assertThrows(BlobNotFoundException.class, () -> cache.get(digest));
    assertThrows(BlobNotFoundException.class, () -> cache.openRead(digest, 0));
    assertEquals(Map.of(), cache.getBatch(List.of(digest)));
    assertEquals(0, cache.bytes());
  }

  private static ByteString blob(String text) {
    return ByteString.copyFromUtf8(text);
  }

  private ByteString stored(String text) throws IOException {
    ByteString data = blob(text);
    disk.put(Digests.of(data), data);
    return data;
  }

  /** The store below, counting the reads that reach it. */
  private static final class CountingReads extends ForwardingBlobStore {
    final AtomicInteger reads = new AtomicInteger();
    volatile Collection<Digest> lastBatch;

    CountingReads(BlobStore inner) {
      super(inner);
    }

    @Override
    public InputStream openRead(Digest digest, long offset) throws IOException {
      reads.incrementAndGet();
      return inner.openRead(digest, offset);
    }

    @Override
    public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
      lastBatch = List.copyOf(digests);
      reads.addAndGet(digests.size());
      return inner.getBatch(digests);
    }

    @Override
    public ByteString get(Digest digest) throws IOException {
      reads.incrementAndGet();
      return inner.get(digest);
    }
  }
}
