package build.rex.storage.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobCorruptException;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.Digests;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import build.rex.storage.disk.Scrubber;
import com.google.protobuf.ByteString;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads through the verifying layer over a real disk store whose files are altered underneath. */
class VerifyingBlobStoreTest {
  @TempDir Path root;
  private DiskBlobStore disk;
  private VerifyingBlobStore verified;

  @BeforeEach
  void open() throws Exception {
    disk = DiskBlobStore.open(root, new DiskStoreSettings(1 << 26, 0.5, 0.9, false));
    verified = new VerifyingBlobStore(disk, disk);
  }

  private Digest store(int size, int seed) throws Exception {
    byte[] data = new byte[size];
    new java.util.Random(seed).nextBytes(data);
    Digest digest = Digests.of(data);
    disk.put(digest, ByteString.copyFrom(data));
    return digest;
  }

  /** What a failing disk does: one byte of the stored file changes. */
  private void flipByte(Digest digest, long at) throws Exception {
    Path file = disk.blobPath(digest);
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(at);
      int b = raf.read();
      raf.seek(at);
      raf.write(b ^ 0x20);
    }
  }

  private long quarantined() throws Exception {
    Path dir = root.resolve("quarantine");
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.count();
    }
  }

  @Test
  void intactBlobsReadAsStoredWholeAndFromAnOffset() throws Exception {
    Digest small = store(1000, 1);
    Digest large = store(3 << 20, 2);
    assertEquals(disk.get(small), verified.get(small));
    try (InputStream in = verified.openRead(large, 2_500_000)) {
      byte[] rest = in.readAllBytes();
      assertEquals(disk.get(large).substring(2_500_000), ByteString.copyFrom(rest));
    }
    assertEquals(Set.of(small, large), verified.getBatch(List.of(small, large)).keySet());
    assertEquals(0, disk.isolatedBlobs());
  }

  @Test
  void aSmallCorruptCopyFailsAtOpenAndIsQuarantined() throws Exception {
    Digest digest = store(1000, 3);
    Path file = disk.blobPath(digest);
    flipByte(digest, 500);
    BlobCorruptException e = assertThrows(BlobCorruptException.class, () -> verified.openRead(digest, 0));
    assertTrue(e.getMessage().contains(digest.getHash()), e.getMessage());
    assertEquals(1, disk.isolatedBlobs());
    assertEquals(1, quarantined(), "the copy is kept for inspection");
    assertTrue(Files.notExists(file));
    assertEquals(Set.of(digest), disk.findMissing(List.of(digest)), "out of the index: it reads as absent");
    assertThrows(BlobNotFoundException.class, () -> verified.openRead(digest, 0));
  }

  @Test
  void aLargeCorruptCopyFailsBeforeItsLastByteLeaves() throws Exception {
    Digest digest = store(3 << 20, 4);
    flipByte(digest, 2_000_000);
    long delivered = 0;
    try (InputStream in = verified.openRead(digest, 0)) {
      byte[] buffer = new byte[64 << 10];
      BlobCorruptException e = null;
      try {
        for (int n; (n = in.read(buffer)) > 0; ) {
          delivered += n;
        }
      } catch (BlobCorruptException thrown) {
        e = thrown;
      }
      assertTrue(e != null, "the read failed");
    }
    assertTrue(delivered < digest.getSizeBytes(), "never the whole blob: " + delivered);
    assertEquals(1, disk.isolatedBlobs());
  }

  @Test
  void aRangedReadPastTheDamageStillNoticesIt() throws Exception {
    Digest digest = store(100_000, 5);
    flipByte(digest, 10);
    assertThrows(BlobCorruptException.class, () -> verified.openRead(digest, 50_000));
    assertEquals(1, disk.isolatedBlobs());
  }

  @Test
  void aTruncatedOrLengthenedCopyIsCorruptToo() throws Exception {
    Digest shorter = store(5000, 6);
    Digest longer = store(5000, 7);
    Files.write(disk.blobPath(shorter), Files.readAllBytes(disk.blobPath(shorter)).length > 0
        ? java.util.Arrays.copyOf(Files.readAllBytes(disk.blobPath(shorter)), 4000) : new byte[0]);
    Files.write(disk.blobPath(longer), new byte[] {1}, java.nio.file.StandardOpenOption.APPEND);
    assertThrows(BlobCorruptException.class, () -> verified.get(shorter));
    assertThrows(BlobCorruptException.class, () -> verified.get(longer));
    assertEquals(2, disk.isolatedBlobs());
  }

  @Test
  void aBatchReadLeavesTheCorruptCopyOutAsAbsent() throws Exception {
    Digest good = store(300, 8);
    Digest bad = store(300, 9);
    flipByte(bad, 0);
    Map<Digest, ByteString> found = verified.getBatch(List.of(good, bad));
    assertEquals(Set.of(good), found.keySet());
    assertEquals(1, disk.isolatedBlobs());
  }

  @Test
  void blobsUsedInPlaceAreRecheckedWhenTheirLastCheckIsTooOld() throws Exception {
    Digest intact = store(2000, 10);
    Digest rotten = store(2000, 11);
    flipByte(rotten, 1999);
    assertEquals(Set.of(rotten), disk.findMissingOrCorrupt(List.of(intact, rotten)), "rechecked on every use here");
    assertEquals(1, disk.isolatedBlobs());
    DiskBlobStore lenient = DiskBlobStore.open(root.resolve("lenient"), new DiskStoreSettings(1 << 26, 0.5, 0.9, false,
        java.time.Duration.ZERO, java.time.Duration.ofHours(1)));
    byte[] data = new byte[2000];
    Digest digest = Digests.of(data);
    lenient.put(digest, ByteString.copyFrom(data));
    Path file = lenient.blobPath(digest);
    Files.write(file, new byte[2000 - 1]);
    assertEquals(Set.of(), lenient.findMissingOrCorrupt(List.of(digest)), "checked on arrival a moment ago: trusted");
  }

  @Test
  void theScrubberFindsRotBeforeAnyoneReadsIt() throws Exception {
    for (int i = 0; i < 20; i++) {
      store(10_000 + i, 100 + i);
    }
    Digest rotten = store(2 << 20, 200);
    flipByte(rotten, 1 << 20);
    Scrubber scrubber = new Scrubber(disk, 1L << 30);
    assertEquals(1, scrubber.passOnce());
    assertEquals(1, scrubber.mismatches());
    assertEquals(1, disk.isolatedBlobs());
    assertEquals(Set.of(rotten), disk.findMissing(List.of(rotten)));
    assertEquals(20, disk.blobCount());
    assertTrue(scrubber.bytesScrubbed() >= 20 * 10_000, String.valueOf(scrubber.bytesScrubbed()));
    assertEquals(0, scrubber.passOnce(), "the next pass finds nothing");
  }
}
