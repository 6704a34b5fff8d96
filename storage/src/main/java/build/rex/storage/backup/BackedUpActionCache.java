package build.rex.storage.backup;

import build.bazel.remote.execution.v2.ActionResult;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.ActionKey;
import java.io.IOException;
import java.util.Optional;

/**
 * A primary Action Cache with a backup behind it: entries are written to both (entries are
 * small, so at once), and an entry only the backup has is put back into the primary on read.
 */
public final class BackedUpActionCache implements ActionCache {
  private final ActionCache primary;
  private final ActionCache backup;

  public BackedUpActionCache(ActionCache primary, ActionCache backup) {
    this.primary = primary;
    this.backup = backup;
  }

  @Override
  public Optional<ActionResult> get(ActionKey key) throws IOException {
    Optional<ActionResult> result = primary.get(key);
    if (result.isEmpty()) {
      result = backup.get(key);
      if (result.isPresent()) {
        primary.put(key, result.get());
      }
    }
    return result;
  }

  @Override
  public void put(ActionKey key, ActionResult result) throws IOException {
    primary.put(key, result);
    backup.put(key, result);
  }
}
