package build.rex.storage.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.Digests;
import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scrubber's pace over a real disk store (what it finds is VerifyingBlobStoreTest's). */
class ScrubberTest {
  @TempDir Path root;

  @Test
  void eachBlobCostsAtLeastTheLeastChargeOfTheRateAndALargeOneItsBytes() throws Exception {
    DiskBlobStore disk = DiskBlobStore.open(root, new DiskStoreSettings(1 << 26, 0.5, 0.9, false));
    Random random = new Random(7);
    for (int i = 0; i < 30; i++) {
      store(disk, random, 100);
    }
    int large = (int) Scrubber.LEAST_CHARGE * 3 + 5;
    store(disk, random, large);
    Scrubber scrubber = new Scrubber(disk, 1L << 40);

    assertEquals(0, scrubber.passOnce());

    assertEquals(30 * 100 + large, scrubber.bytesScrubbed(), "every byte reread once");
    assertEquals(30 * Scrubber.LEAST_CHARGE + large, scrubber.bytesCharged(),
        "the small blobs count as the least charge each, the large one as its size");
  }

  private static void store(DiskBlobStore disk, Random random, int size) throws Exception {
    byte[] data = new byte[size];
    random.nextBytes(data);
    Digest digest = Digests.of(data);
    disk.put(digest, ByteString.copyFrom(data));
  }
}
