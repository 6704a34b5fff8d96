package build.rex.storage.replication;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Rendezvous (highest-random-weight) hashing: every member scores every key and a key belongs
 * to the members with the highest scores, so adding or removing one of N members moves only
 * about 1/N of the keys, and only to or from that member.
 *
 * <p>Member names are hashed once; a key costs one hash plus a few multiplications per member,
 * so ranking thousands of digests over hundreds of members stays in the milliseconds.
 */
public final class Rendezvous<T> {
  private final String[] names;
  private final long[] nameHashes;
  private final List<T> values;

  /** @param members stable names (e.g. worker ids) and what they stand for */
  public Rendezvous(Map<String, T> members) {
    names = members.keySet().toArray(String[]::new);
    nameHashes = Arrays.stream(names).mapToLong(Rendezvous::hash).toArray();
    values = List.copyOf(members.values());
  }

  public int size() {
    return names.length;
  }

  public boolean isEmpty() {
    return names.length == 0;
  }

  /** The member that owns {@code key}. */
  public T pick(String key) {
    if (isEmpty()) {
      throw new IllegalStateException("rendezvous hashing needs at least one member");
    }
    return values.get(topIndexes(key, 1)[0]);
  }

  /** The {@code count} members with the highest scores for {@code key}, best first. */
  public List<T> top(String key, int count) {
    int[] order = topIndexes(key, Math.min(count, names.length));
    List<T> picked = new ArrayList<>(order.length);
    for (int index : order) {
      picked.add(values.get(index));
    }
    return picked;
  }

  /** Like {@link #top(String, int)}, but the members' names. */
  public List<String> topNames(String key, int count) {
    int[] order = topIndexes(key, Math.min(count, names.length));
    List<String> picked = new ArrayList<>(order.length);
    for (int index : order) {
      picked.add(names[index]);
    }
    return picked;
  }

  public List<T> all() {
    return values;
  }

  public List<String> names() {
    return List.of(names);
  }

  /** Indexes of the best {@code count} members, by partial selection (count is small). */
  private int[] topIndexes(String key, int count) {
    long keyHash = hash(key);
    int[] best = new int[count];
    long[] bestScores = new long[count];
    int filled = 0;
    for (int i = 0; i < names.length; i++) {
      long score = mix(nameHashes[i] ^ keyHash);
      int at = filled;
      while (at > 0 && Long.compareUnsigned(score, bestScores[at - 1]) > 0) {
        at--;
      }
      if (at < count) {
        int last = Math.min(filled, count - 1);
        System.arraycopy(best, at, best, at + 1, last - at);
        System.arraycopy(bestScores, at, bestScores, at + 1, last - at);
        best[at] = i;
        bestScores[at] = score;
        filled = Math.min(filled + 1, count);
      }
    }
    return best;
  }

  /** FNV-1a finished with the SplitMix64 mixer. */
  static long hash(String text) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      hash ^= b;
      hash *= 0x100000001b3L;
    }
    return mix(hash);
  }

  /** SplitMix64's finalizer: every input bit changes about half the output bits. */
  static long mix(long value) {
    long z = value;
    z ^= z >>> 30;
    z *= 0xbf58476d1ce4e5b9L;
    z ^= z >>> 27;
    z *= 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
