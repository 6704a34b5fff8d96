package build.rex.storage.cache;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.ForwardingBlobStore;
import build.rex.storage.ForwardingBlobWriter;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Remembers for a short while which blobs the store below holds, as Buildbarn's
 * ExistenceCachingBlobAccess does: findMissing asks below only for digests not confirmed within
 * the time to live, so the completeness check of an Action Cache hit and Execute's check of inputs
 * a client has just uploaded or found present cost no call to the workers.
 *
 * <p>A blob counts as confirmed when the store below said it holds it (and touched it there) or
 * took a write of it. Workers keep every blob used within their minimum lifetime (300 s by
 * default) unless their disk would overflow, so an answer at most {@code ttl} old (10 s by
 * default) is as good as a fresh one. What can still make one wrong is a worker lost with the only
 * copy, or a copy found rotten; {@link #forgetAll} is called when a worker leaves, and a read
 * that finds a blob missing forgets it at once.
 */
public final class ExistenceCachingBlobStore extends ForwardingBlobStore {
  private final long ttlNanos;
  private final int maxEntries;
  private final LongSupplier nanoClock;
  /** When each blob was last confirmed, oldest first (a confirmation moves it to the end). */
  private final LinkedHashMap<Digest, Long> confirmed = new LinkedHashMap<>();
  private long hits;
  private long misses;

  /**
   * @param ttl how long a confirmation is trusted; positive
   * @param maxEntries the most digests remembered (the oldest confirmations go first)
   */
  public ExistenceCachingBlobStore(BlobStore inner, Duration ttl, int maxEntries, LongSupplier nanoClock) {
    super(inner);
    if (ttl.isNegative() || ttl.isZero() || maxEntries <= 0) {
      throw new IllegalArgumentException("the time to live and the size must be positive, got " + ttl + " and "
          + maxEntries);
    }
    this.ttlNanos = ttl.toNanos();
    this.maxEntries = maxEntries;
    this.nanoClock = nanoClock;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    List<Digest> unknown = unconfirmed(digests);
    if (unknown.isEmpty()) {
      return Set.of();
    }
    long asked = nanoClock.getAsLong();
    Set<Digest> missing = inner.findMissing(unknown);
    synchronized (this) {
      for (Digest digest : unknown) {
        if (missing.contains(digest)) {
          confirmed.remove(digest);
        } else {
          confirm(digest, asked);
        }
      }
    }
    return missing;
  }

  @Override
  public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
    Map<Digest, ByteString> found = inner.getBatch(digests);
    if (found.size() < digests.size()) {
      synchronized (this) {
        digests.stream().filter(d -> !found.containsKey(d)).forEach(confirmed::remove);
      }
    }
    return found;
  }

  @Override
  public ByteString get(Digest digest) throws IOException {
    try {
      return inner.get(digest);
    } catch (build.rex.storage.BlobNotFoundException e) {
      forget(digest);
      throw e;
    }
  }

  @Override
  public java.io.InputStream openRead(Digest digest, long offset) throws IOException {
    try {
      return inner.openRead(digest, offset);
    } catch (build.rex.storage.BlobNotFoundException e) {
      forget(digest);
      throw e;
    }
  }

  @Override
  public BlobWriter newWriter(Digest digest) throws IOException {
    long started = nanoClock.getAsLong();
    return new ForwardingBlobWriter(inner.newWriter(digest)) {
      @Override
      public void commit() throws IOException {
        inner.commit();
        confirm(digest, started);
      }
    };
  }

  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    long started = nanoClock.getAsLong();
    Map<Digest, IOException> failures = inner.putBatch(blobs);
    synchronized (this) {
      blobs.keySet().stream().filter(d -> !failures.containsKey(d)).forEach(d -> confirm(d, started));
    }
    return failures;
  }

  @Override
  public void put(Digest digest, ByteString data) throws IOException {
    long started = nanoClock.getAsLong();
    inner.put(digest, data);
    confirm(digest, started);
  }

  /** Trusts nothing remembered so far (a worker left, perhaps with the only copy of some blobs). */
  public synchronized void forgetAll() {
    confirmed.clear();
  }

  /** Digests findMissing answered without asking below. */
  public synchronized long hits() {
    return hits;
  }

  /** Digests findMissing had to ask below about. */
  public synchronized long misses() {
    return misses;
  }

  public synchronized int size() {
    return confirmed.size();
  }

  private synchronized List<Digest> unconfirmed(Collection<Digest> digests) {
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

  private synchronized void forget(Digest digest) {
    confirmed.remove(digest);
  }

  /** Records a confirmation from {@code at} (when the call that gave it began: the blob was there then at the latest). */
  private synchronized void confirm(Digest digest, long at) {
    Long before = confirmed.remove(digest);
    confirmed.put(digest, before == null ? at : Math.max(before, at));
    if (confirmed.size() > maxEntries) {
      Iterator<Digest> oldest = confirmed.keySet().iterator();
      oldest.next();
      oldest.remove();
    }
  }
}
