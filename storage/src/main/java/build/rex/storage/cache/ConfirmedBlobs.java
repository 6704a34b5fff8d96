package build.rex.storage.cache;

import build.bazel.remote.execution.v2.Digest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Which blobs a store confirmed it holds lately, and when: filled by
 * {@link ExistenceRecordingBlobStore}, trusted by {@link ExistenceCachingBlobStore} for a
 * time to live. Bounded: the oldest confirmations make room for new ones.
 */
public final class ConfirmedBlobs {
  private final long ttlNanos;
  private final int maxEntries;
  private final LongSupplier nanoClock;
  /** When each blob was last confirmed, oldest first (a confirmation moves it to the end). */
  private final LinkedHashMap<Digest, Long> confirmed = new LinkedHashMap<>();
  private long hits;
  private long misses;

  /**
   * @param ttl how long a confirmation is trusted; positive
   * @param maxEntries the most digests remembered
   */
  public ConfirmedBlobs(Duration ttl, int maxEntries, LongSupplier nanoClock) {
    if (ttl.isNegative() || ttl.isZero() || maxEntries <= 0) {
      throw new IllegalArgumentException("the time to live and the size must be positive, got " + ttl + " and "
          + maxEntries);
    }
    this.ttlNanos = ttl.toNanos();
    this.maxEntries = maxEntries;
    this.nanoClock = nanoClock;
  }

  /** Now, on the clock confirmations are stamped with: take it before the call whose answer confirms. */
  public long now() {
    return nanoClock.getAsLong();
  }

  /** The digests not confirmed within the time to live, in their order; counts hits and misses. */
  public synchronized List<Digest> unconfirmed(Collection<Digest> digests) {
    long now = nanoClock.getAsLong();
    List<Digest> unknown = new ArrayList<>();
    for (Digest digest : digests) {
      Long at = confirmed.get(digest);
      if (at != null && now - at < ttlNanos) {
        hits++;
      } else {
        misses++;
        unknown.add(digest);
      }
    }
    return unknown;
  }

  /** The blob was in the store at {@code at} (when the call that said so began) at the latest. */
  public synchronized void confirm(Digest digest, long at) {
    Long before = confirmed.remove(digest);
    confirmed.put(digest, before == null ? at : Math.max(before, at));
    if (confirmed.size() > maxEntries) {
      Iterator<Digest> oldest = confirmed.keySet().iterator();
      oldest.next();
      oldest.remove();
    }
  }

  public synchronized void forget(Digest digest) {
    confirmed.remove(digest);
  }

  /** Trusts nothing confirmed so far (a worker left, perhaps with the only copy of some blobs). */
  public synchronized void forgetAll() {
    confirmed.clear();
  }

  /** Digests answered from here. */
  public synchronized long hits() {
    return hits;
  }

  /** Digests that had to be asked of the store. */
  public synchronized long misses() {
    return misses;
  }

  public synchronized int size() {
    return confirmed.size();
  }
}
