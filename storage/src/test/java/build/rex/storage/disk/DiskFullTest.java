package build.rex.storage.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.Digests;
import build.rex.storage.StorageFullException;
import build.rex.storage.service.Statuses;
import com.google.protobuf.ByteString;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A disk that fills up before the store's own capacity: a real 2 MiB tmpfs under the store. */
class DiskFullTest {
  @TempDir Path dir;
  private Path mount;

  private boolean mountSmallFileSystem() throws Exception {
    mount = dir.resolve("small");
    Files.createDirectories(mount);
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount.toString())
        .redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      System.err.println("DiskFullTest skipped: cannot mount a 2 MiB tmpfs here (needs root): " + output.trim());
      mount = null;
      return false;
    }
    return true;
  }

  @AfterEach
  void unmount() throws Exception {
    if (mount != null) {
      new ProcessBuilder("umount", mount.toString()).inheritIO().start().waitFor();
    }
  }

  private static ByteString random(int size, int seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return ByteString.copyFrom(data);
  }

  @Test
  void aFullDiskRefusesTheUploadCleanlyAndKeepsServing() throws Exception {
    assumeTrue(mountSmallFileSystem(), "needs a mountable tmpfs (root)");
    DiskBlobStore store = DiskBlobStore.open(mount, new DiskStoreSettings(100L << 20, 0.8, 0.9, true));
    ByteString kept = random(100_000, 1);
    store.put(Digests.of(kept), kept);
    ByteString tooBig = random(3 << 20, 2);
    StorageFullException full = assertThrows(StorageFullException.class, () -> store.put(Digests.of(tooBig), tooBig));
    assertTrue(full.getMessage().contains("is full"), full.getMessage());
    assertEquals(io.grpc.Status.Code.RESOURCE_EXHAUSTED.value(), Statuses.of(full).getCode());
    try (Stream<Path> leftovers = Files.list(mount.resolve("tmp"))) {
      assertEquals(0, leftovers.count(), "no temporary file is left behind");
    }
    assertEquals(1, store.blobCount(), "the index still holds exactly what is on disk");
    assertEquals(kept, store.get(Digests.of(kept)), "reads go on");
    Map<Digest, ByteString> batch = Map.of(Digests.of(random(3 << 20, 3)), random(3 << 20, 3),
        Digests.of(random(1000, 4)), random(1000, 4));
    Map<Digest, java.io.IOException> failures = store.putBatch(batch);
    assertEquals(Set.of(Digests.of(random(3 << 20, 3))), failures.keySet(), "only the blob that did not fit failed");
    assertTrue(failures.values().iterator().next() instanceof StorageFullException);
    assertEquals(Set.of(), store.findMissing(List.of(Digests.of(random(1000, 4)))));
  }
}
