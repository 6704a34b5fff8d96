package build.rex.storage.sharding;

import build.bazel.remote.execution.v2.ActionResult;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.ActionKey;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;

/** Spreads Action Cache entries over several caches by rendezvous hashing of their key. */
public final class ShardingActionCache implements ActionCache {
  private final Rendezvous<ActionCache> shards;

  public ShardingActionCache(Map<String, ActionCache> shards) {
    this.shards = new Rendezvous<>(shards);
  }

  private ActionCache shardOf(ActionKey key) {
    return shards.pick(key.toString());
  }

  @Override
  public Optional<ActionResult> get(ActionKey key) throws IOException {
    return shardOf(key).get(key);
  }

  @Override
  public void put(ActionKey key, ActionResult result) throws IOException {
    shardOf(key).put(key, result);
  }
}
