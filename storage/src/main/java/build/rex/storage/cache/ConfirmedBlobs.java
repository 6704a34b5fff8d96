package build.rex.storage.cache;

import build.bazel.remote.execution.v2.Digest;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Which blobs a store confirmed it holds lately, and when: filled by
 * {@link ExistenceRecordingBlobStore}, trusted by {@link ExistenceCachingBlobStore} for a
 * time to live.
 */
public final class ConfirmedBlobs extends RecentKeys<Digest> {
  public ConfirmedBlobs(Duration ttl, int maxEntries, LongSupplier nanoClock) {
    super(ttl, maxEntries, nanoClock);
  }
}
