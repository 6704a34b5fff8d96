package build.rex.storage.replication;

import build.bazel.remote.execution.v2.ActionResult;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.ActionKey;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps every Action Cache entry on the R members that {@link Placement} names for its key.
 * Writes go to all owners at once and succeed only when all of them stored the entry; reads take
 * the first owner that has it and put the entry back on owners found without it.
 */
public final class ReplicatingActionCache implements ActionCache {
  private static final Logger log = LoggerFactory.getLogger(ReplicatingActionCache.class);
  private final Supplier<Placement<ActionCache>> placement;
  private final FanOut fanOut;
  private final Executor repairs;

  public ReplicatingActionCache(Supplier<Placement<ActionCache>> placement, Executor calls) {
    this.placement = placement;
    this.fanOut = new FanOut(calls);
    this.repairs = calls;
  }

  private List<ActionCache> owners(ActionKey key) throws IOException {
    return placement.get().requireMembers().owners(key.toString());
  }

  @Override
  public Optional<ActionResult> get(ActionKey key) throws IOException {
    List<ActionCache> lacking = new ArrayList<>();
    IOException failure = null;
    for (ActionCache owner : owners(key)) {
      try {
        Optional<ActionResult> result = owner.get(key);
        if (result.isPresent()) {
          if (!lacking.isEmpty()) {
            repairs.execute(() -> putBack(key, result.get(), lacking));
          }
          return result;
        }
        lacking.add(owner);
      } catch (IOException e) {
        failure = e;
      }
    }
    if (lacking.isEmpty() && failure != null) {
      throw failure;
    }
    return Optional.empty();
  }

  private static void putBack(ActionKey key, ActionResult result, List<ActionCache> targets) {
    for (ActionCache target : targets) {
      try {
        target.put(key, result);
      } catch (IOException e) {
        log.debug("could not repair the Action Cache entry {}: {}", key, e.toString());
      }
    }
  }

  @Override
  public void put(ActionKey key, ActionResult result) throws IOException {
    fanOut.allOrFail(owners(key), owner -> owner.put(key, result));
  }
}
