package build.rex.storage.disk;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The in-memory index of a disk store: which entries exist, their sizes, and their order of last
 * use. Pinned keys are never chosen for eviction, even when pinned before the entry arrives.
 * Thread-safe.
 */
public final class LruIndex {
  /** One stored blob. */
  public static final class Entry {
    public final String key;
    public final long size;
    /** When the access time on disk was last brought up to date, so restarts keep the order. */
    public long persistedAccessMillis;
    /** When the entry was last written or used, in memory: the minimum lifetime counts from it. */
    long lastUseMillis;
    /** When the entry's bytes were last checked against its key (0: not since the index was built). */
    long verifiedMillis;

    public Entry(String key, long size, long persistedAccessMillis) {
      this.key = key;
      this.size = size;
      this.persistedAccessMillis = persistedAccessMillis;
      this.lastUseMillis = persistedAccessMillis;
    }
  }

  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(1 << 16, 0.75f, true);
  private final Map<String, Integer> pins = new HashMap<>();
  private long totalBytes;

  /** Looks an entry up and marks it as used at {@code nowMillis}; null when absent. */
  public synchronized Entry touch(String key, long nowMillis) {
    Entry entry = entries.get(key);
    if (entry != null) {
      entry.lastUseMillis = nowMillis;
    }
    return entry;
  }

  public synchronized boolean contains(String key) {
    return entries.containsKey(key);
  }

  /**
   * Adds an entry as the most recently used, last used at {@code accessMillis}; an entry already
   * present is only touched.
   */
  public synchronized void add(String key, long size, long accessMillis) {
    Entry entry = entries.get(key);
    if (entry == null) {
      entries.put(key, new Entry(key, size, accessMillis));
      totalBytes += size;
    } else {
      entry.lastUseMillis = Math.max(entry.lastUseMillis, accessMillis);
    }
  }

  /** Notes that the entry's bytes were checked at {@code millis}. */
  public synchronized void markVerified(String key, long millis) {
    Entry entry = entries.get(key);
    if (entry != null) {
      entry.verifiedMillis = Math.max(entry.verifiedMillis, millis);
    }
  }

  /** When the entry's bytes were last checked; -1 when absent. Does not touch it. */
  public synchronized long verifiedMillis(String key) {
    Entry entry = entries.get(key);
    return entry == null ? -1 : entry.verifiedMillis;
  }

  /** Takes an entry out (e.g. a corrupt copy); returns it, or null when absent. */
  public synchronized Entry remove(String key) {
    Entry entry = entries.remove(key);
    if (entry != null) {
      totalBytes -= entry.size;
    }
    return entry;
  }

  public synchronized void pin(String key) {
    pins.merge(key, 1, Integer::sum);
  }

  public synchronized void unpin(String key) {
    pins.computeIfPresent(key, (k, count) -> count == 1 ? null : count - 1);
  }

  public synchronized boolean isPinned(String key) {
    return pins.containsKey(key);
  }

  /** Removes least recently used, unpinned entries until at most {@code targetBytes} remain. */
  public List<Entry> evictDownTo(long targetBytes) {
    return evictDownTo(targetBytes, Long.MAX_VALUE);
  }

  /**
   * Removes least recently used, unpinned entries until at most {@code targetBytes} remain,
   * sparing those last used after {@code spareUsedAfterMillis}, and returns them so the caller can
   * delete their files outside the lock. Entries are in order of use, so the first one spared
   * ends the search.
   */
  public synchronized List<Entry> evictDownTo(long targetBytes, long spareUsedAfterMillis) {
    List<Entry> evicted = new ArrayList<>();
    Iterator<Entry> oldestFirst = entries.values().iterator();
    while (totalBytes > targetBytes && oldestFirst.hasNext()) {
      Entry entry = oldestFirst.next();
      if (entry.lastUseMillis > spareUsedAfterMillis) {
        break;
      }
      if (!pins.containsKey(entry.key)) {
        oldestFirst.remove();
        totalBytes -= entry.size;
        evicted.add(entry);
      }
    }
    return evicted;
  }

  /** Bytes of entries that are pinned, and of the others used after {@code sinceMillis}. */
  public synchronized long[] protectedBytes(long sinceMillis) {
    long pinned = 0;
    long young = 0;
    for (Entry entry : entries.values()) {
      if (pins.containsKey(entry.key)) {
        pinned += entry.size;
      } else if (entry.lastUseMillis > sinceMillis) {
        young += entry.size;
      }
    }
    return new long[] {pinned, young};
  }

  /** Every key and size at this moment, without touching them. */
  public synchronized Snapshot snapshot() {
    String[] keys = new String[entries.size()];
    long[] sizes = new long[keys.length];
    int i = 0;
    for (Entry entry : entries.values()) {
      keys[i] = entry.key;
      sizes[i++] = entry.size;
    }
    return new Snapshot(keys, sizes);
  }

  /** Keys and sizes side by side: a million blobs cost 16 MB, not a million objects. */
  public record Snapshot(String[] keys, long[] sizes) {}

  public synchronized long totalBytes() {
    return totalBytes;
  }

  public synchronized int size() {
    return entries.size();
  }
}
