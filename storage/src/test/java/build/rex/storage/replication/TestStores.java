package build.rex.storage.replication;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.Digests;
import build.rex.storage.RemoteStorageException;
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
import java.util.concurrent.CopyOnWriteArrayList;

/** Stores the layers' tests compose: real disk stores, a counting wrapper and one that is down. */
final class TestStores {
  private TestStores() {}

  static DiskBlobStore disk(Path root) throws IOException {
    return DiskBlobStore.open(root, new DiskStoreSettings(1 << 30, 0.5, 0.9, false));
  }

  static ByteString blob(String name) {
    return ByteString.copyFromUtf8("blob " + name);
  }

  static Digest digest(String name) {
    return Digests.of(blob(name));
  }

  static boolean holds(BlobStore store, Digest digest) throws IOException {
    return store.findMissing(List.of(digest)).isEmpty();
  }

  /** Waits (up to 30 s) for {@code store} to hold {@code digest}, as a background repair puts it there. */
  static boolean awaitHeld(BlobStore store, Digest digest) throws Exception {
    for (int i = 0; i < 3000; i++) {
      if (holds(store, digest)) {
        return true;
      }
      Thread.sleep(10);
    }
    return false;
  }

  /** A store that records the digests of every batch call it is asked. */
  static final class Counting implements BlobStore {
    final BlobStore inner;
    final List<Collection<Digest>> findMissingCalls = new CopyOnWriteArrayList<>();
    final List<Collection<Digest>> getBatchCalls = new CopyOnWriteArrayList<>();
    final List<Collection<Digest>> putBatchCalls = new CopyOnWriteArrayList<>();

    Counting(BlobStore inner) {
      this.inner = inner;
    }

    @Override
    public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
      findMissingCalls.add(List.copyOf(digests));
      return inner.findMissing(digests);
    }

    @Override
    public InputStream openRead(Digest digest, long offset) throws IOException {
      return inner.openRead(digest, offset);
    }

    @Override
    public BlobWriter newWriter(Digest digest) throws IOException {
      return inner.newWriter(digest);
    }

    @Override
    public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
      getBatchCalls.add(List.copyOf(digests));
      return inner.getBatch(digests);
    }

    @Override
    public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
      putBatchCalls.add(List.copyOf(blobs.keySet()));
      return inner.putBatch(blobs);
    }
  }

  /** A member that cannot be reached. */
  static final class Unreachable implements BlobStore {
    private static IOException down() {
      return new RemoteStorageException(io.grpc.Status.UNAVAILABLE.withDescription("down"));
    }

    @Override
    public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
      throw down();
    }

    @Override
    public InputStream openRead(Digest digest, long offset) throws IOException {
      throw down();
    }

    @Override
    public BlobWriter newWriter(Digest digest) throws IOException {
      throw down();
    }
  }
}
