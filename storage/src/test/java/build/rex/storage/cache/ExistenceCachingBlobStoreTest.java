package build.rex.storage.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.Digests;
import build.rex.storage.ForwardingBlobStore;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExistenceCachingBlobStoreTest {
  private static final Duration TTL = Duration.ofSeconds(10);
  @TempDir Path dir;
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private DiskBlobStore disk;
  private CountingPresence below;
  private ExistenceCachingBlobStore cache;

  @BeforeEach
  void setUp() throws IOException {
    disk = DiskBlobStore.open(dir, new DiskStoreSettings(1 << 30, 0.5, 0.9, false));
    below = new CountingPresence(disk);
    cache = new ExistenceCachingBlobStore(below, TTL, 1000, nanos::get);
  }

  @Test
  void blobsFoundPresentAreNotAskedForAgainWithinTheTimeToLive() throws IOException {
    Digest present = stored("present");
    Digest absent = Digests.of(blob("absent"));

    assertEquals(Set.of(absent), cache.findMissing(List.of(present, absent)));
    nanos.addAndGet(TTL.toNanos() - 1);
    assertEquals(Set.of(absent), cache.findMissing(List.of(present, absent)));

    assertEquals(List.of(List.of(present, absent), List.of(absent)), below.asked,
        "the absent blob is asked for each time, the present one once");
    assertEquals(1, cache.hits());
  }

  @Test
  void aConfirmationExpiresAndIsAskedForAgain() throws IOException {
    Digest present = stored("present");
    cache.findMissing(List.of(present));
    nanos.addAndGet(TTL.toNanos());

    assertEquals(Set.of(), cache.findMissing(List.of(present)));

    assertEquals(List.of(List.of(present), List.of(present)), below.asked);
  }

  @Test
  void whatWasWrittenThroughItCountsAsConfirmed() throws IOException {
    ByteString put = blob("put"), streamed = blob("streamed"), batched = blob("batched");
    cache.put(Digests.of(put), put);
    try (BlobWriter writer = cache.newWriter(Digests.of(streamed))) {
      writer.write(streamed);
      writer.commit();
    }
    assertEquals(Map.of(), cache.putBatch(Map.of(Digests.of(batched), batched)));

    assertEquals(Set.of(), cache.findMissing(List.of(Digests.of(put), Digests.of(streamed), Digests.of(batched))));
    assertEquals(List.of(), below.asked, "nothing was asked below");
  }

  @Test
  void anUploadThatIsNotCommittedConfirmsNothing() throws IOException {
    ByteString data = blob("abandoned");
    try (BlobWriter writer = cache.newWriter(Digests.of(data))) {
      writer.write(data);
    }

    assertEquals(Set.of(Digests.of(data)), cache.findMissing(List.of(Digests.of(data))));
  }

  @Test
  void aReadThatFindsTheBlobGoneForgetsItsConfirmation() throws IOException {
    Digest once = stored("evicted later");
    Digest other = stored("evicted too");
    cache.findMissing(List.of(once, other));
    disk.isolate(once, "gone, as an eviction would leave it");
    disk.isolate(other, "gone too");

    assertThrows(BlobNotFoundException.class, () -> cache.get(once));
    assertEquals(Map.of(), cache.getBatch(List.of(other)));

    assertEquals(Set.of(once, other), cache.findMissing(List.of(once, other)), "both asked below again");
  }

  @Test
  void forgetAllTrustsNothingRememberedBefore() throws IOException {
    Digest present = stored("present");
    cache.findMissing(List.of(present));

    cache.forgetAll();
    cache.findMissing(List.of(present));

    assertEquals(List.of(List.of(present), List.of(present)), below.asked);
  }

  @Test
  void theOldestConfirmationsMakeRoomForNewOnes() throws IOException {
    ExistenceCachingBlobStore small = new ExistenceCachingBlobStore(below, TTL, 2, nanos::get);
    Digest a = stored("a"), b = stored("b"), c = stored("c");
    small.findMissing(List.of(a));
    small.findMissing(List.of(b));
    small.findMissing(List.of(c));
    below.asked.clear();

    small.findMissing(List.of(a, b, c));

    assertEquals(2, small.size());
    assertEquals(List.of(List.of(a)), below.asked, "only the oldest was forgotten");
  }

  private Digest stored(String text) throws IOException {
    ByteString data = blob(text);
    disk.put(Digests.of(data), data);
    return Digests.of(data);
  }

  private static ByteString blob(String text) {
    return ByteString.copyFromUtf8("existence " + text);
  }

  /** Records every findMissing that reaches the store below. */
  private static final class CountingPresence extends ForwardingBlobStore {
    final List<List<Digest>> asked = new ArrayList<>();

    CountingPresence(BlobStore inner) {
      super(inner);
    }

    @Override
    public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
      asked.add(List.copyOf(digests));
      return inner.findMissing(digests);
    }
  }
}
