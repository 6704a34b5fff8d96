package build.rex.storage.ac;

import build.bazel.remote.execution.v2.ActionResult;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A bounded, least-recently-used memory layer in front of a durable Action Cache: reads are
 * served from memory when they can be, writes go through to the backing cache first.
 */
public final class InMemoryActionCache implements ActionCache {
  private final ActionCache backing;
  private final Map<ActionKey, ActionResult> recent;

  public InMemoryActionCache(ActionCache backing, int maxEntries) {
    this.backing = backing;
    this.recent = new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<ActionKey, ActionResult> eldest) {
        return size() > maxEntries;
      }
    };
  }

  @Override
  public Optional<ActionResult> get(ActionKey key) throws IOException {
    synchronized (recent) {
      ActionResult hit = recent.get(key);
      if (hit != null) {
        return Optional.of(hit);
      }
    }
    Optional<ActionResult> loaded = backing.get(key);
    loaded.ifPresent(result -> remember(key, result));
    return loaded;
  }

  @Override
  public void put(ActionKey key, ActionResult result) throws IOException {
    backing.put(key, result);
    remember(key, result);
  }

  /** Keeps a result that is already in the backing cache (written there by someone else). */
  public void remember(ActionKey key, ActionResult result) {
    synchronized (recent) {
      recent.put(key, result);
    }
  }
}
