package build.rex.storage.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RendezvousTest {
  private static final int KEYS = 20_000;

  private static Rendezvous<String> members(int count) {
    Map<String, String> members = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      members.put("worker-" + i + ":8981", "worker-" + i);
    }
    return new Rendezvous<>(members);
  }

  private static Map<String, String> placement(Rendezvous<String> ring) {
    Map<String, String> placed = new HashMap<>();
    for (int i = 0; i < KEYS; i++) {
      placed.put("key" + i, ring.pick("key" + i));
    }
    return placed;
  }

  @Test
  void spreadsKeysEvenly() {
    Map<String, Integer> counts = new HashMap<>();
    placement(members(5)).values().forEach(m -> counts.merge(m, 1, Integer::sum));
    assertEquals(5, counts.size());
    counts.values().forEach(c -> assertTrue(Math.abs(c - KEYS / 5) < KEYS / 5 * 0.1, "uneven: " + counts));
  }

  @Test
  void addingOneOfNMembersMovesAboutOneNthOfTheKeys() {
    Map<String, String> before = placement(members(5));
    Map<String, String> after = placement(members(6));
    long moved = before.keySet().stream().filter(k -> !before.get(k).equals(after.get(k))).count();
    double fraction = (double) moved / KEYS;
    assertTrue(Math.abs(fraction - 1.0 / 6) < 0.02, "moved " + fraction);
    before.keySet().stream().filter(k -> !before.get(k).equals(after.get(k)))
        .forEach(k -> assertEquals("worker-5", after.get(k), "keys only move to the new member"));
  }

  @Test
  void removingOneOfNMembersMovesOnlyItsKeys() {
    Map<String, String> before = placement(members(6));
    Map<String, String> after = placement(members(5));
    long moved = before.keySet().stream().filter(k -> !before.get(k).equals(after.get(k))).count();
    long heldByRemoved = before.values().stream().filter("worker-5"::equals).count();
    assertEquals(heldByRemoved, moved);
  }

  @Test
  void topMembersAreDistinctAndStartWithThePick() {
    Rendezvous<String> ring = members(5);
    for (int i = 0; i < 1000; i++) {
      List<String> top = ring.top("key" + i, 3);
      assertEquals(3, new HashSet<>(top).size());
      assertEquals(ring.pick("key" + i), top.get(0));
    }
    assertEquals(5, ring.top("key", 9).size(), "never more than the members");
  }

  @Test
  void addingOrRemovingOneOfNMembersMovesAboutOneNthOfTheReplicas() {
    int replicas = 2;
    for (int n : new int[] {4, 8}) {
      Rendezvous<String> small = members(n);
      Rendezvous<String> large = members(n + 1);
      long moved = 0;
      for (int i = 0; i < KEYS; i++) {
        Set<String> before = new HashSet<>(small.top("key" + i, replicas));
        Set<String> after = new HashSet<>(large.top("key" + i, replicas));
        Set<String> gained = new HashSet<>(after);
        gained.removeAll(before);
        moved += gained.size();
        gained.forEach(m -> assertEquals("worker-" + n, m, "copies only move to the new member"));
      }
      // Each member owns replicas/(n+1) of the copies; the new one takes its share from the rest.
      double fraction = (double) moved / (KEYS * replicas);
      assertTrue(Math.abs(fraction - 1.0 / (n + 1)) < 0.02, n + " -> " + (n + 1) + " moved " + fraction);
    }
  }

  @Test
  void placementIsTheSameWhateverTheOrderOfMembers() {
    Map<String, String> forward = new LinkedHashMap<>();
    Map<String, String> backward = new LinkedHashMap<>();
    for (int i = 0; i < 6; i++) {
      forward.put("w" + i, "w" + i);
      backward.put("w" + (5 - i), "w" + (5 - i));
    }
    for (int i = 0; i < 1000; i++) {
      assertEquals(new Rendezvous<>(forward).top("k" + i, 2), new Rendezvous<>(backward).top("k" + i, 2));
    }
  }
}
