package build.rex.storage.ac;

import build.bazel.remote.execution.v2.ActionResult;
import java.io.IOException;
import java.util.Optional;

/** Maps actions to their results. Implementations compose like the blob stores do. */
public interface ActionCache {
  Optional<ActionResult> get(ActionKey key) throws IOException;

  void put(ActionKey key, ActionResult result) throws IOException;
}
