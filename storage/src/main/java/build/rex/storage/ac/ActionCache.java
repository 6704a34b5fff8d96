package build.rex.storage.ac;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ExecuteResponse;
import java.io.IOException;
import java.util.Optional;

/** Maps actions to their results. Implementations compose like the blob stores do. */
public interface ActionCache {
  Optional<ActionResult> get(ActionKey key) throws IOException;

  void put(ActionKey key, ActionResult result) throws IOException;

  /** What the REAPI lets a server cache: a successful run of an action that may be cached. */
  static boolean mayCache(Action action, ExecuteResponse response) {
    return response.getStatus().getCode() == 0 && response.getResult().getExitCode() == 0 && !action.getDoNotCache();
  }
}
