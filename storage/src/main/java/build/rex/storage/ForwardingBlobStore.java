package build.rex.storage;

import build.bazel.remote.execution.v2.Digest;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.Map;
import java.util.Set;

/**
 * A layer that passes every call to the store below; a layer that changes some calls extends it
 * and overrides only those. The batch and whole-blob calls go below too (so the store below
 * keeps its own batching): a layer that changes reads or writes must override them as well,
 * which is why the verifying layer implements BlobStore itself.
 */
public abstract class ForwardingBlobStore implements BlobStore {
  protected final BlobStore inner;

  protected ForwardingBlobStore(BlobStore inner) {
    this.inner = inner;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
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
  public ByteString get(Digest digest) throws IOException {
    return inner.get(digest);
  }

  @Override
  public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
    return inner.getBatch(digests);
  }

  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    return inner.putBatch(blobs);
  }

  @Override
  public void put(Digest digest, ByteString data) throws IOException {
    inner.put(digest, data);
  }
}
