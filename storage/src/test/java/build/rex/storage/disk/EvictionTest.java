package build.rex.storage.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobWriter;
import build.rex.storage.Digests;
import build.rex.storage.StorageFullException;
import com.google.protobuf.ByteString;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What eviction frees and what it spares: capacity 10,000 bytes, watermarks 5,000 and 9,000. */
class EvictionTest {
  private static final int CAPACITY = 10_000;
  @TempDir Path root;
  private final AtomicLong nowMillis = new AtomicLong(1_000_000);

  private DiskBlobStore open(Duration minLifetime) throws Exception {
    return DiskBlobStore.open(root, new DiskStoreSettings(CAPACITY, 0.5, 0.9, false, minLifetime, Duration.ZERO), nowMillis::get);
  }

  private static ByteString blob(int size, int seed) {
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) (i * 31 + seed);
    }
    return ByteString.copyFrom(data);
  }

  private static List<Digest> putAll(DiskBlobStore store, int count, int firstSeed) throws Exception {
    List<Digest> digests = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ByteString data = blob(1000, firstSeed + i);
      store.put(Digests.of(data), data);
      digests.add(Digests.of(data));
    }
    return digests;
  }

  @Test
  void blobsWithinTheMinimumLifetimeAreSparedWhileOlderOnesGo() throws Exception {
    DiskBlobStore store = open(Duration.ofMinutes(1));
    List<Digest> old = putAll(store, 5, 0);
    nowMillis.addAndGet(Duration.ofMinutes(2).toMillis());
    List<Digest> young = putAll(store, 4, 100); // 9,000 bytes stored now
    nowMillis.addAndGet(1_000);
    putAll(store, 1, 200);
    assertEquals(Set.copyOf(old), store.findMissing(old), "the old blobs went");
    assertEquals(Set.of(), store.findMissing(young), "the young ones stayed, below the low watermark or not");
    assertEquals(5_000, store.sizeBytes());
  }

  @Test
  void aBlobUsedRecentlyCountsAsYoung() throws Exception {
    DiskBlobStore store = open(Duration.ofMinutes(1));
    List<Digest> blobs = putAll(store, 9, 0);
    nowMillis.addAndGet(Duration.ofMinutes(2).toMillis());
    store.findMissing(List.of(blobs.get(0))); // a build asked for it just now
    putAll(store, 1, 100);
    assertEquals(Set.of(), store.findMissing(List.of(blobs.get(0))), "the oldest by writing, but used just now");
    assertEquals(Set.copyOf(blobs.subList(1, 6)), store.findMissing(blobs.subList(1, 6)), "the next oldest went");
  }

  @Test
  void whenTheDiskWouldOverflowYoungBlobsGoOnlyAsFarAsNeeded() throws Exception {
    DiskBlobStore store = open(Duration.ofMinutes(10));
    List<Digest> young = putAll(store, 10, 0); // 10,000: past the high watermark, within capacity
    assertEquals(0, store.evictedBlobs(), "nothing had to go yet");
    putAll(store, 1, 100);
    assertEquals(1, store.evictedBlobs());
    assertEquals(Set.of(young.get(0)), store.findMissing(young), "only the oldest, to make room for one");
    assertEquals(CAPACITY, store.sizeBytes());
  }

  @Test
  void aStoreFullOfPinnedBlobsRefusesTheWriterAndNamesTheCapacity() throws Exception {
    DiskBlobStore store = open(Duration.ZERO);
    List<Digest> pinned = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      pinned.add(Digests.of(blob(1000, i)));
    }
    try (DiskBlobStore.Lease lease = store.pin(pinned)) { // running actions' inputs, pinned as they arrive
      putAll(store, 10, 0);
      ByteString data = blob(1000, 200);
      StorageFullException full = assertThrows(StorageFullException.class, () -> store.put(Digests.of(data), data));
      assertTrue(full.getMessage().contains("capacity is 10000 bytes"), full.getMessage());
      assertTrue(full.getMessage().contains("10000 are pinned"), full.getMessage());
      assertEquals(Set.of(), store.findMissing(pinned), "no pinned blob went");
      try (Stream<Path> leftovers = Files.list(root.resolve("tmp"))) {
        assertEquals(0, leftovers.count());
      }
    }
    ByteString data = blob(1000, 300);
    store.put(Digests.of(data), data); // unpinned, they may go again
    assertEquals(Set.of(), store.findMissing(List.of(Digests.of(data))));
  }

  @Test
  void bytesBeingWrittenCountAgainstTheWatermarks() throws Exception {
    DiskBlobStore store = open(Duration.ZERO);
    ByteString big = blob(4_000, 1);
    try (BlobWriter upload = store.newWriter(Digests.of(big))) {
      putAll(store, 6, 10); // at the sixth, 5,000 stored + 4,000 promised + 1,000 pass the high watermark
      assertTrue(store.sizeBytes() + 4_000 <= 5_000, "evicted to the low watermark counting the upload: " + store.sizeBytes());
      upload.write(big);
      upload.commit();
    }
    assertTrue(store.sizeBytes() <= 5_000 + 1_000, String.valueOf(store.sizeBytes()));
    ByteString more = blob(1000, 99);
    store.put(Digests.of(more), more);
    assertTrue(store.sizeBytes() <= CAPACITY);
  }

  @Test
  void anUploadDuringAnEvictionOfTheSameBlobKeepsItsFile() throws Exception {
    DiskBlobStore store = open(Duration.ZERO);
    ByteString raced = blob(1000, 0);
    Digest racedDigest = Digests.of(raced);
    store.put(racedDigest, raced); // the oldest: evicted first
    putAll(store, 8, 1);
    List<Throwable> uploadFailures = new ArrayList<>();
    store.beforeEvictedFileDeleted = key -> {
      if (!key.equals(racedDigest.getHash())) {
        return;
      }
      // Out of the index, file not yet deleted: a client uploads the same blob right now.
      Thread upload = new Thread(() -> {
        try {
          store.put(racedDigest, raced);
        } catch (Exception e) {
          uploadFailures.add(e);
        }
      });
      upload.start();
      try {
        upload.join();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    };
    putAll(store, 1, 100); // evicts the raced blob and others
    assertEquals(List.of(), uploadFailures);
    assertEquals(Set.of(), store.findMissing(List.of(racedDigest)), "the upload indexed the blob");
    assertEquals(raced, store.get(racedDigest), "and its file is still there");
  }

  @Test
  void aWriterKilledMidWriteLeavesNoBlobAfterRestart() throws Exception {
    DiskBlobStore store = open(Duration.ZERO);
    ByteString data = blob(3000, 5);
    BlobWriter abandoned = store.newWriter(Digests.of(data)); // the process dies: never committed nor closed
    abandoned.write(data.substring(0, 1500));
    DiskBlobStore restarted = open(Duration.ZERO);
    assertEquals(Set.of(Digests.of(data)), restarted.findMissing(List.of(Digests.of(data))));
    assertEquals(0, restarted.blobCount());
    try (Stream<Path> leftovers = Files.list(root.resolve("tmp"))) {
      assertEquals(0, leftovers.count(), "the partial upload is gone");
    }
    restarted.put(Digests.of(data), data);
    assertEquals(data, restarted.get(Digests.of(data)));
  }
}
