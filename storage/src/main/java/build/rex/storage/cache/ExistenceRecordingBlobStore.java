package build.rex.storage.cache;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.ForwardingBlobStore;
import build.rex.storage.ForwardingBlobWriter;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.Map;
import java.util.Set;

/**
 * Notes in {@link ConfirmedBlobs} what the store below says it holds, and answers every call
 * from below (so clients' FindMissingBlobs stays the truth): a findMissing's present digests and
 * every committed write confirm a blob; a missing digest, or a read that finds a blob gone,
 * forgets it.
 */
public final class ExistenceRecordingBlobStore extends ForwardingBlobStore {
  private final ConfirmedBlobs confirmed;

  public ExistenceRecordingBlobStore(BlobStore inner, ConfirmedBlobs confirmed) {
    super(inner);
    this.confirmed = confirmed;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    long asked = confirmed.now();
    Set<Digest> missing = inner.findMissing(digests);
    for (Digest digest : digests) {
      if (missing.contains(digest)) {
        confirmed.forget(digest);
      } else {
        confirmed.confirm(digest, asked);
      }
    }
    return missing;
  }

  @Override
  public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
    Map<Digest, ByteString> found = inner.getBatch(digests);
    if (found.size() < digests.size()) {
      digests.stream().filter(d -> !found.containsKey(d)).forEach(confirmed::forget);
    }
    return found;
  }

  @Override
  public ByteString get(Digest digest) throws IOException {
    try {
      return inner.get(digest);
    } catch (BlobNotFoundException e) {
      confirmed.forget(digest);
      throw e;
    }
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    try {
      return inner.openRead(digest, offset);
    } catch (BlobNotFoundException e) {
      confirmed.forget(digest);
      throw e;
    }
  }

  @Override
  public BlobWriter newWriter(Digest digest) throws IOException {
    long started = confirmed.now();
    return new ForwardingBlobWriter(inner.newWriter(digest)) {
      @Override
      public void commit() throws IOException {
        inner.commit();
        confirmed.confirm(digest, started);
      }
    };
  }

  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    long started = confirmed.now();
    Map<Digest, IOException> failures = inner.putBatch(blobs);
    blobs.keySet().stream().filter(d -> !failures.containsKey(d)).forEach(d -> confirmed.confirm(d, started));
    return failures;
  }

  @Override
  public void put(Digest digest, ByteString data) throws IOException {
    long started = confirmed.now();
    inner.put(digest, data);
    confirmed.confirm(digest, started);
  }
}
