package build.rex.storage.verify;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.Digests;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.Map;
import java.util.Set;

/**
 * Checks every blob read from the store below against its digest, in the same pass that reads it.
 * A copy that fails is handed to the {@link Quarantine} and reported as corrupt (a kind of
 * absence, so replicating layers above fall over to another copy and repair this one). Writes pass
 * through: the store below verifies them as they arrive.
 */
public final class VerifyingBlobStore implements BlobStore {
  private final BlobStore inner;
  private final Quarantine quarantine;

  public VerifyingBlobStore(BlobStore inner, Quarantine quarantine) {
    this.inner = inner;
    this.quarantine = quarantine;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    return inner.findMissing(digests);
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    if (Digests.isEmpty(digest)) {
      return InputStream.nullInputStream();
    }
    return VerifyingInputStream.open(digest, inner.openRead(digest, 0), offset, quarantine);
  }

  @Override
  public BlobWriter newWriter(Digest digest) throws IOException {
    return inner.newWriter(digest);
  }

  /** Reads the blobs; a copy that fails its check is isolated and left out, as an absent one. */
  @Override
  public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
    Map<Digest, ByteString> found = new java.util.HashMap<>(inner.getBatch(digests));
    found.entrySet().removeIf(entry -> {
      Digest actual = Digests.of(entry.getValue());
      if (actual.equals(entry.getKey())) {
        return false;
      }
      quarantine.isolate(entry.getKey(), "its bytes are " + Digests.toString(actual));
      return true;
    });
    return found;
  }

  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    return inner.putBatch(blobs);
  }
}
