package build.rex.worker.execution;

import build.bazel.remote.execution.v2.ExecuteResponse;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.ActionKey;
import build.rex.v1.Assignment;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores a successful action's result in the Action Cache from the worker that ran it, straight
 * to the entry's owners (this worker among them, through its own disk), so the scheduler is told
 * the result instead of being handed it to write.
 */
final class ResultWriter {
  private static final Logger log = LoggerFactory.getLogger(ResultWriter.class);
  private final ActionCache cluster;

  ResultWriter(ActionCache cluster) {
    this.cluster = cluster;
  }

  /**
   * True when the Action Cache needs nothing more: the result is stored, or is not one to cache.
   * False when storing failed; the scheduler is then asked to store it (ResultNotCached).
   */
  boolean store(Assignment assignment, ExecuteResponse response) {
    if (!ActionCache.mayCache(assignment.getAction(), response)) {
      return true;
    }
    try {
      cluster.put(new ActionKey(assignment.getInstanceName(), assignment.getActionDigest()), response.getResult());
      return true;
    } catch (IOException | RuntimeException e) {
      log.warn("could not cache the result of {} (the scheduler is asked to): {}", assignment.getOperation(), e.toString());
      return false;
    }
  }
}
