package build.rex.storage.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.Digests;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import build.rex.storage.replication.BlobCopier;
import build.rex.storage.replication.RateLimiter;
import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackedUpBlobStoreTest {
  @TempDir Path dir;

  private static DiskBlobStore disk(Path root) throws Exception {
    return DiskBlobStore.open(root, new DiskStoreSettings(1 << 30, 0.5, 0.9, false));
  }

  @Test
  void writesReachTheBackupAndAnEmptyPrimaryIsRefilledFromIt() throws Exception {
    DiskBlobStore backup = disk(dir.resolve("backup"));
    ByteString data = ByteString.copyFromUtf8("keep me");
    Digest digest = Digests.of(data);
    try (BackedUpBlobStore store = new BackedUpBlobStore(disk(dir.resolve("primary")), backup,
        new BlobCopier(RateLimiter.unlimited()), 1, 10)) {
      store.put(digest, data);
    } // close waits for the backup copy
    assertEquals(Set.of(), backup.findMissing(List.of(digest)));

    DiskBlobStore emptyPrimary = disk(dir.resolve("new-primary"));
    try (BackedUpBlobStore store = new BackedUpBlobStore(emptyPrimary, backup,
        new BlobCopier(RateLimiter.unlimited()), 1, 10)) {
      assertEquals(Set.of(), store.findMissing(List.of(digest)), "present: restored from the backup");
      assertEquals(Set.of(), emptyPrimary.findMissing(List.of(digest)), "and now in the primary itself");
      assertEquals(data, store.get(digest));
      assertEquals(1, store.restored());
      Digest absent = Digests.of(ByteString.copyFromUtf8("never written"));
      assertEquals(Set.of(absent), store.findMissing(List.of(absent)));
    }
  }
}
