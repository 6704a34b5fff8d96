package build.rex.storage.sharding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
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
}
