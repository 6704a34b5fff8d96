package build.rex.storage.ac;

import build.bazel.remote.execution.v2.ActionResult;
import build.rex.storage.cache.RecentKeys;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A bounded, least-recently-used memory layer in front of a durable Action Cache: reads are
 * served from memory when they can be, writes go through to the backing cache first. It also
 * remembers which actions the backing cache lacked lately, for callers that may act on a miss
 * just seen ({@link #trustingRecentMisses}); every other read asks the backing cache.
 */
public final class InMemoryActionCache implements ActionCache {
  private final ActionCache backing;
  private final Map<ActionKey, ActionResult> recent;
  /** Actions the backing cache answered it lacks, and when; null remembers none. */
  private final RecentKeys<ActionKey> absent;

  public InMemoryActionCache(ActionCache backing, int maxEntries) {
    this(backing, maxEntries, null);
  }

  /** @param absent where the misses of the backing cache are kept, or null to keep none */
  public InMemoryActionCache(ActionCache backing, int maxEntries, RecentKeys<ActionKey> absent) {
    this.backing = backing;
    this.absent = absent;
    this.recent = new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<ActionKey, ActionResult> eldest) {
        return size() > maxEntries;
      }
    };
  }

  @Override
  public Optional<ActionResult> get(ActionKey key) throws IOException {
    Optional<ActionResult> kept = kept(key);
    return kept.isPresent() ? kept : load(key);
  }

  /** Asks the backing cache, and keeps what it answers: the result, or that it has none. */
  private Optional<ActionResult> load(ActionKey key) throws IOException {
    long asked = absent == null ? 0 : absent.now();
    Optional<ActionResult> loaded = backing.get(key);
    if (loaded.isPresent()) {
      remember(key, loaded.get());
    } else if (absent != null) {
      absent.confirm(key, asked);
    }
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
    if (absent != null) {
      absent.forget(key);
    }
  }

  /**
   * This cache for a caller that may take a miss the backing cache answered within the time to
   * live as its own (Execute, just after the client's GetActionResult missed): such a key costs
   * no call. A result stored or remembered here since takes the miss back.
   */
  public ActionCache trustingRecentMisses() {
    if (absent == null) {
      return this;
    }
    return new ActionCache() {
      @Override
      public Optional<ActionResult> get(ActionKey key) throws IOException {
        Optional<ActionResult> kept = kept(key);
        if (kept.isPresent()) {
          return kept;
        }
        return absent.confirmed(key) ? Optional.empty() : load(key);
      }

      @Override
      public void put(ActionKey key, ActionResult result) throws IOException {
        InMemoryActionCache.this.put(key, result);
      }
    };
  }

  private Optional<ActionResult> kept(ActionKey key) {
    synchronized (recent) {
      return Optional.ofNullable(recent.get(key));
    }
  }
}
