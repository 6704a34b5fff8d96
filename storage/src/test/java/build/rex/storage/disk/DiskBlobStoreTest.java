package build.rex.storage.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobTooLargeException;
import build.rex.storage.BlobWriter;
import build.rex.storage.DigestMismatchException;
import build.rex.storage.Digests;
import com.google.protobuf.ByteString;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskBlobStoreTest {
  @TempDir Path root;

  private DiskBlobStore open(long capacity) throws Exception {
    return DiskBlobStore.open(root, new DiskStoreSettings(capacity, 0.5, 0.9, false));
  }

  private static ByteString blob(int size, int seed) {
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) (i * 31 + seed);
    }
    return ByteString.copyFrom(data);
  }

  @Test
  void storesReadsAndReadsFromAnOffset() throws Exception {
    DiskBlobStore store = open(1 << 20);
    ByteString data = blob(1000, 1);
    Digest digest = Digests.of(data);
    assertEquals(Set.of(digest), store.findMissing(List.of(digest)));
    store.put(digest, data);
    assertEquals(Set.of(), store.findMissing(List.of(digest)));
    assertEquals(data, store.get(digest));
    try (InputStream in = store.openRead(digest, 990)) {
      assertArrayEquals(data.substring(990).toByteArray(), in.readAllBytes());
    }
    assertEquals(1, store.blobCount());
    assertEquals(1000, store.sizeBytes());
  }

  @Test
  void aBatchIsSyncedTogetherAndReportsEachBadBlobAlone() throws Exception {
    DiskBlobStore store = DiskBlobStore.open(root, new DiskStoreSettings(1 << 20, 0.5, 0.9, true));
    ByteString stored = blob(100, 7);
    store.put(Digests.of(stored), stored);
    java.util.Map<Digest, ByteString> batch = new java.util.LinkedHashMap<>();
    List<Digest> good = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      ByteString data = blob(200 + i, i);
      good.add(Digests.of(data));
      batch.put(Digests.of(data), data);
    }
    batch.put(Digests.of(stored), stored);
    Digest lying = Digests.of(blob(300, 99));
    batch.put(lying, blob(300, 98));
    java.util.Map<Digest, java.io.IOException> failures = store.putBatch(batch);
    assertEquals(Set.of(lying), failures.keySet());
    assertTrue(failures.get(lying) instanceof DigestMismatchException, failures.toString());
    assertEquals(Set.of(lying), store.findMissing(batch.keySet()));
    for (Digest digest : good) {
      assertEquals(batch.get(digest), store.get(digest));
    }
    assertEquals(51, store.blobCount());
    try (Stream<Path> leftovers = Files.list(root.resolve("tmp"))) {
      assertEquals(0, leftovers.count(), "no temporary file is left behind");
    }
  }

  /** Writes {@code data} in chunks of 1 MiB, as a ByteStream upload arrives, and commits it. */
  private static void writeInChunks(DiskBlobStore store, ByteString data) throws Exception {
    try (BlobWriter writer = store.newWriter(Digests.of(data))) {
      for (int from = 0; from < data.size(); from += 1 << 20) {
        writer.write(data.substring(from, Math.min(data.size(), from + (1 << 20))));
      }
      writer.commit();
    }
  }

  @Test
  void aLargeBlobIsFlushedBehindWhileItIsWrittenOnlyWhenItIsToBeSynced() throws Exception {
    ByteString large = blob((int) (2.5 * DiskBlobStore.FLUSH_BEHIND_BYTES), 3);
    DiskBlobStore synced = DiskBlobStore.open(root.resolve("synced"), new DiskStoreSettings(1 << 30, 0.5, 0.9, true));
    writeInChunks(synced, large);
    assertTrue(synced.flushesBehind() >= 1, "a flush started once the first " + DiskBlobStore.FLUSH_BEHIND_BYTES
        + " bytes were written");
    assertEquals(large, synced.get(Digests.of(large)));

    DiskBlobStore unsynced = DiskBlobStore.open(root.resolve("unsynced"), new DiskStoreSettings(1 << 30, 0.5, 0.9, false));
    writeInChunks(unsynced, large);
    assertEquals(0, unsynced.flushesBehind(), "storage.fsync off: nothing is flushed");
    long before = synced.flushesBehind();
    writeInChunks(synced, blob((int) DiskBlobStore.FLUSH_BEHIND_BYTES - 1, 4));
    assertEquals(before, synced.flushesBehind(), "a blob under the threshold starts none");
  }

  @Test
  void theEmptyBlobIsAlwaysPresent() throws Exception {
    DiskBlobStore store = open(1 << 20);
    assertEquals(Set.of(), store.findMissing(List.of(Digests.EMPTY)));
    assertEquals(ByteString.EMPTY, store.get(Digests.EMPTY));
    try (BlobWriter writer = store.newWriter(Digests.EMPTY)) {
      assertTrue(writer.isComplete());
    }
  }

  @Test
  void rejectsBytesThatDoNotMatchTheDigestAndLeavesNothingBehind() throws Exception {
    DiskBlobStore store = open(1 << 20);
    Digest claimed = Digests.of(blob(100, 1));
    assertThrows(DigestMismatchException.class, () -> store.put(claimed, blob(100, 2)));
    assertThrows(DigestMismatchException.class, () -> store.put(claimed, blob(99, 1)));
    assertThrows(BlobNotFoundException.class, () -> store.get(claimed));
    try (Stream<Path> leftovers = Files.list(root.resolve("tmp"))) {
      assertEquals(0, leftovers.count(), "aborted uploads leave no temporary files");
    }
  }

  @Test
  void aBlobIsInvisibleUntilCommitted() throws Exception {
    DiskBlobStore store = open(1 << 20);
    ByteString data = blob(100, 3);
    Digest digest = Digests.of(data);
    try (BlobWriter writer = store.newWriter(digest)) {
      writer.write(data.substring(0, 50));
      assertFalse(writer.isComplete());
      assertThrows(BlobNotFoundException.class, () -> store.openRead(digest, 0));
      writer.write(data.substring(50));
      writer.commit();
    }
    assertEquals(data, store.get(digest));
  }

  @Test
  void refusesBlobsLargerThanTheWholeStore() throws Exception {
    DiskBlobStore store = open(1000);
    assertThrows(BlobTooLargeException.class, () -> store.newWriter(Digests.of(blob(1001, 1))));
  }

  @Test
  void evictsLeastRecentlyUsedBlobsDownToTheLowWatermark() throws Exception {
    DiskBlobStore store = open(10_000); // high watermark 9000, low 5000
    List<Digest> digests = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      ByteString data = blob(1000, i);
      digests.add(Digests.of(data));
      store.put(digests.get(i), data);
    }
    store.findMissing(List.of(digests.get(0))); // blob 0 is now the most recently used
    ByteString last = blob(1000, 99);
    store.put(Digests.of(last), last);
    assertTrue(store.sizeBytes() <= 5000 + 1000, "evicted down to the low watermark: " + store.sizeBytes());
    assertTrue(store.evictedBlobs() >= 4);
    assertEquals(Set.of(), store.findMissing(List.of(digests.get(0), Digests.of(last))));
    assertEquals(Set.of(digests.get(1)), store.findMissing(List.of(digests.get(1))), "oldest went first");
    assertFalse(Files.exists(root.resolve("cas/sha256").resolve(digests.get(1).getHash().substring(0, 2))
        .resolve(digests.get(1).getHash())), "evicted files are deleted");
  }

  @Test
  void pinnedBlobsSurviveEviction() throws Exception {
    DiskBlobStore store = open(10_000);
    ByteString pinnedData = blob(1000, 0);
    Digest pinned = Digests.of(pinnedData);
    store.put(pinned, pinnedData);
    try (DiskBlobStore.Lease lease = store.pin(List.of(pinned))) {
      for (int i = 1; i < 30; i++) {
        ByteString data = blob(1000, i);
        store.put(Digests.of(data), data);
      }
      assertEquals(pinnedData, store.get(pinned));
    }
    for (int i = 30; i < 40; i++) {
      ByteString data = blob(1000, i);
      store.put(Digests.of(data), data);
    }
    assertEquals(Set.of(pinned), store.findMissing(List.of(pinned)), "unpinned, it ages out like any blob");
  }

  @Test
  void reopeningRebuildsTheIndexFromDisk() throws Exception {
    DiskBlobStore store = open(1 << 20);
    List<Digest> digests = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      ByteString data = blob(100 + i, i);
      digests.add(Digests.of(data));
      store.put(digests.get(i), data);
    }
    Files.writeString(root.resolve("tmp/half-written-upload"), "partial");
    DiskBlobStore reopened = open(1 << 20);
    assertEquals(50, reopened.blobCount());
    assertEquals(store.sizeBytes(), reopened.sizeBytes());
    assertEquals(Set.of(), reopened.findMissing(digests));
    assertEquals(blob(120, 20), reopened.get(digests.get(20)));
    assertFalse(Files.exists(root.resolve("tmp/half-written-upload")), "leftover uploads are cleaned on start");
  }

  @Test
  void storedBlobsAreReadOnly() throws Exception {
    DiskBlobStore store = open(1 << 20);
    ByteString data = blob(10, 1);
    Digest digest = Digests.of(data);
    store.put(digest, data);
    Path file = root.resolve("cas/sha256").resolve(digest.getHash().substring(0, 2)).resolve(digest.getHash());
    assertEquals("r--r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
  }

  @Test
  void adoptsAnOutputFileByLinkingItWithoutCopyingIt() throws Exception {
    DiskBlobStore store = DiskBlobStore.open(root, new DiskStoreSettings(1 << 20, 0.5, 0.9, true));
    Path output = Files.createDirectories(root.resolve("exec")).resolve("out");
    ByteString data = blob(5000, 3);
    Files.write(output, data.toByteArray());
    Digest digest = Digests.of(data);
    assertTrue(store.adopt(digest, output));
    Path stored = store.blobPath(digest);
    assertTrue(Files.isSameFile(output, stored), "the CAS names the output's own file");
    assertEquals(java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"), Files.getPosixFilePermissions(stored));
    assertEquals(data, store.get(digest));
    assertEquals(5000, store.sizeBytes());
    Files.delete(output); // the exec root goes; the blob stays
    assertEquals(data, store.get(digest));
    assertTrue(store.adopt(digest, stored), "a blob already stored is taken as it is");
    assertEquals(1, store.blobCount());
  }

  @Test
  void doesNotAdoptAFileThatAnotherNameLinksToOrThatIsNotOfTheDigestsSize() throws Exception {
    DiskBlobStore store = open(1 << 20);
    Path exec = Files.createDirectories(root.resolve("exec"));
    ByteString data = blob(700, 4);
    Digest digest = Digests.of(data);
    Path linked = exec.resolve("linked");
    Files.write(linked, data.toByteArray());
    Files.createLink(exec.resolve("elsewhere"), linked);
    assertFalse(store.adopt(digest, linked), "a file another name reaches may still change through it");
    Path shorter = exec.resolve("shorter");
    Files.write(shorter, data.substring(1).toByteArray());
    assertFalse(store.adopt(digest, shorter));
    Path symlink = Files.createSymbolicLink(exec.resolve("symlink"), shorter);
    assertFalse(store.adopt(Digests.of(data.substring(1)), symlink), "a symlink is not the file");
    assertEquals(Set.of(digest), store.findMissing(List.of(digest)));
    assertEquals(0, store.blobCount());
    assertTrue(Files.getPosixFilePermissions(linked).contains(java.nio.file.attribute.PosixFilePermission.OWNER_WRITE),
        "a file not taken is left as it was");
  }
}
