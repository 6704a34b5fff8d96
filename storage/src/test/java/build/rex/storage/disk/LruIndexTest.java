package build.rex.storage.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LruIndexTest {
  @Test
  void evictsLeastRecentlyUsedFirst() {
    LruIndex index = new LruIndex();
    index.add("a", 10, 0);
    index.add("b", 10, 0);
    index.add("c", 10, 0);
    index.touch("a", 1);
    List<LruIndex.Entry> evicted = index.evictDownTo(15);
    assertEquals(List.of("b", "c"), evicted.stream().map(e -> e.key).toList());
    assertEquals(10, index.totalBytes());
    assertTrue(index.contains("a"));
  }

  @Test
  void neverEvictsPinnedBlobsEvenWhenPinnedBeforeTheyArrive() {
    LruIndex index = new LruIndex();
    index.pin("b");
    index.add("a", 10, 0);
    index.add("b", 10, 0);
    index.evictDownTo(0);
    assertTrue(index.contains("b"));
    assertFalse(index.contains("a"));
    index.unpin("b");
    index.evictDownTo(0);
    assertFalse(index.contains("b"));
  }

  @Test
  void addingTwiceCountsOnce() {
    LruIndex index = new LruIndex();
    index.add("a", 10, 0);
    index.add("a", 10, 0);
    assertEquals(10, index.totalBytes());
    assertEquals(1, index.size());
  }

  @Test
  void sparesEntriesUsedAfterTheCutoff() {
    LruIndex index = new LruIndex();
    index.add("old", 10, 100);
    index.add("young", 10, 200);
    index.add("touched", 10, 100);
    index.touch("touched", 300);
    List<LruIndex.Entry> evicted = index.evictDownTo(0, 150);
    assertEquals(List.of("old"), evicted.stream().map(e -> e.key).toList());
    assertEquals(20, index.totalBytes());
    assertEquals(2, index.evictDownTo(0).size());
  }

  @Test
  void removingTakesTheBytesOut() {
    LruIndex index = new LruIndex();
    index.add("a", 10, 0);
    assertEquals(10, index.remove("a").size);
    assertEquals(null, index.remove("a"));
    assertEquals(0, index.totalBytes());
  }
}
