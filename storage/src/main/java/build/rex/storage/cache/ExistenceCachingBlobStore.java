package build.rex.storage.cache;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.ForwardingBlobStore;
import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * Answers findMissing from {@link ConfirmedBlobs} for the blobs confirmed within its time to
 * live, and asks below only for the rest, as Buildbarn's ExistenceCachingBlobAccess does. For a
 * server's own checks (an Action Cache hit's completeness, Execute's inputs just uploaded), over
 * a store that records what it is told ({@link ExistenceRecordingBlobStore}); everything but
 * findMissing passes through.
 *
 * <p>Workers keep every blob used within their minimum lifetime (300 s by default) unless their
 * disk would overflow, and each confirmation was such a use, so an answer at most the time to
 * live old (10 s by default) is as good as a fresh one. What can still make one wrong (a worker
 * lost with the only copy, a copy found rotten, an overflowing disk) costs what a blob lost just
 * after a fresh check costs: the worker reports the input missing, or the client re-runs the
 * action whose output it cannot fetch.
 */
public final class ExistenceCachingBlobStore extends ForwardingBlobStore {
  private final ConfirmedBlobs confirmed;

  public ExistenceCachingBlobStore(BlobStore inner, ConfirmedBlobs confirmed) {
    super(inner);
    this.confirmed = confirmed;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    List<Digest> unknown = confirmed.unconfirmed(digests);
    return unknown.isEmpty() ? Set.of() : inner.findMissing(unknown);
  }
}
