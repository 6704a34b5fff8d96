package build.rex.storage.disk;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The in-memory index of a disk store: which blobs exist, their sizes, and their order of last
 * use. Pinned keys are never chosen for eviction, even when pinned before the blob arrives.
 * Thread-safe.
 */
final class LruIndex {
  /** One stored blob. */
  static final class Entry {
    final String key;
    final long size;
    /** When the access time on disk was last brought up to date, so restarts keep the order. */
    long persistedAccessMillis;

    Entry(String key, long size, long persistedAccessMillis) {
      this.key = key;
      this.size = size;
      this.persistedAccessMillis = persistedAccessMillis;
    }
  }

  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(1 << 16, 0.75f, true);
  private final Map<String, Integer> pins = new HashMap<>();
  private long totalBytes;

  /** Looks a blob up and marks it as just used; null when absent. */
  synchronized Entry touch(String key) {
    return entries.get(key);
  }

  synchronized boolean contains(String key) {
    return entries.containsKey(key);
  }

  /** Adds a blob as the most recently used; a blob already present is only touched. */
  synchronized void add(String key, long size, long persistedAccessMillis) {
    if (entries.get(key) == null) {
      entries.put(key, new Entry(key, size, persistedAccessMillis));
      totalBytes += size;
    }
  }

  synchronized void pin(String key) {
    pins.merge(key, 1, Integer::sum);
  }

  synchronized void unpin(String key) {
    pins.computeIfPresent(key, (k, count) -> count == 1 ? null : count - 1);
  }

  synchronized boolean isPinned(String key) {
    return pins.containsKey(key);
  }

  /**
   * Removes least recently used, unpinned blobs until at most {@code targetBytes} remain, and
   * returns them so the caller can delete their files outside the lock.
   */
  synchronized List<Entry> evictDownTo(long targetBytes) {
    List<Entry> evicted = new ArrayList<>();
    Iterator<Entry> oldestFirst = entries.values().iterator();
    while (totalBytes > targetBytes && oldestFirst.hasNext()) {
      Entry entry = oldestFirst.next();
      if (!pins.containsKey(entry.key)) {
        oldestFirst.remove();
        totalBytes -= entry.size;
        evicted.add(entry);
      }
    }
    return evicted;
  }

  /** Every key and size at this moment, without touching them. */
  synchronized Snapshot snapshot() {
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
  record Snapshot(String[] keys, long[] sizes) {}

  synchronized long totalBytes() {
    return totalBytes;
  }

  synchronized int size() {
    return entries.size();
  }
}
