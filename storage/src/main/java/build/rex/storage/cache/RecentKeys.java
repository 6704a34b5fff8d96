package build.rex.storage.cache;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Keys a store's answer confirmed lately, and when, trusted for a time to live instead of asking
 * again (which blobs a worker holds, {@link ConfirmedBlobs}; which actions the Action Cache
 * lacks). Bounded: the oldest confirmations make room for new ones.
 */
public class RecentKeys<K> {
  private final long ttlNanos;
  private final int maxEntries;
  private final LongSupplier nanoClock;
  /** When each key was last confirmed, oldest first (a confirmation moves it to the end). */
  private final LinkedHashMap<K, Long> confirmed = new LinkedHashMap<>();
  private long hits;
  private long misses;

  /**
   * @param ttl how long a confirmation is trusted; positive
   * @param maxEntries the most keys remembered
   */
  public RecentKeys(Duration ttl, int maxEntries, LongSupplier nanoClock) {
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

  /** Whether {@code key} was confirmed within the time to live; counts a hit or a miss. */
  public boolean confirmed(K key) {
    return unconfirmed(List.of(key)).isEmpty();
  }

  /** The keys not confirmed within the time to live, in their order; counts hits and misses. */
  public synchronized List<K> unconfirmed(Collection<K> keys) {
    long now = nanoClock.getAsLong();
    List<K> unknown = new ArrayList<>();
    for (K key : keys) {
      Long at = confirmed.get(key);
      if (at != null && now - at < ttlNanos) {
        hits++;
      } else {
        misses++;
        unknown.add(key);
      }
    }
    return unknown;
  }

  /** The store said so of {@code key} in a call that began at {@code at}. */
  public synchronized void confirm(K key, long at) {
    Long before = confirmed.remove(key);
    confirmed.put(key, before == null ? at : Math.max(before, at));
    if (confirmed.size() > maxEntries) {
      Iterator<K> oldest = confirmed.keySet().iterator();
      oldest.next();
      oldest.remove();
    }
  }

  public synchronized void forget(K key) {
    confirmed.remove(key);
  }

  /** Trusts nothing confirmed so far (a worker left, say, perhaps with the only copy of some blobs). */
  public synchronized void forgetAll() {
    confirmed.clear();
  }

  /** Keys answered from here. */
  public synchronized long hits() {
    return hits;
  }

  /** Keys that had to be asked of the store. */
  public synchronized long misses() {
    return misses;
  }

  public synchronized int size() {
    return confirmed.size();
  }
}
