package build.rex.storage.sharding;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Rendezvous (highest-random-weight) hashing: each key goes to the member with the highest
 * score for it, so adding or removing one of N members moves only about 1/N of the keys.
 */
public final class Rendezvous<T> {
  private final List<Map.Entry<String, T>> members;

  /** @param members stable names (e.g. host:port) and what they stand for */
  public Rendezvous(Map<String, T> members) {
    if (members.isEmpty()) {
      throw new IllegalArgumentException("rendezvous hashing needs at least one member");
    }
    this.members = List.copyOf(members.entrySet());
  }

  public T pick(String key) {
    Map.Entry<String, T> best = null;
    long bestScore = 0;
    for (Map.Entry<String, T> member : members) {
      long score = score(member.getKey(), key);
      if (best == null || Long.compareUnsigned(score, bestScore) > 0) {
        best = member;
        bestScore = score;
      }
    }
    return best.getValue();
  }

  public List<T> all() {
    return members.stream().map(Map.Entry::getValue).toList();
  }

  /** FNV-1a over member and key, finished with the SplitMix64 mixer for an even spread. */
  static long score(String member, String key) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : (member + "\u0000" + key).getBytes(StandardCharsets.UTF_8)) {
      hash ^= b;
      hash *= 0x100000001b3L;
    }
    hash ^= hash >>> 30;
    hash *= 0xbf58476d1ce4e5b9L;
    hash ^= hash >>> 27;
    hash *= 0x94d049bb133111ebL;
    return hash ^ (hash >>> 31);
  }
}
