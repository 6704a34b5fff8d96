package build.rex.operator.scaling;

import build.rex.operator.resources.ClusterNames;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Decides how many workers run now. Scale-up is immediate. Scale-down first drains the workers
 * that will go (the highest ordinals, which a StatefulSet removes): they take no new actions,
 * finish what runs, and hand their blobs to the other owners. Only when every one of them is
 * drained does the count drop; until then the decision says what it waits for.
 */
public final class WorkerScaling {
  /** What to run, which workers are draining, and what a scale-down waits for (null: nothing). */
  public record Decision(int replicas, List<String> draining, String waitingFor) {}

  private static final String FORCE = build.rex.operator.api.RemoteExecutionCluster.FORCE_SCALE_DOWN;
  private final SchedulerAdmin admin;

  public WorkerScaling(SchedulerAdmin admin) {
    this.admin = admin;
  }

  /**
   * @param current the StatefulSet's replicas now (null: none yet)
   * @param wanted the spec's worker count
   * @param existingPods which of the current ordinals have a pod
   */
  public Decision decide(ClusterNames names, Integer current, int wanted, boolean force, URI schedulers,
      java.util.function.IntPredicate existingPods) {
    if (current == null || wanted >= current) {
      return new Decision(wanted, List.of(), null);
    }
    if (force) {
      return new Decision(wanted, List.of(), null);
    }
    List<String> draining = new ArrayList<>();
    for (int ordinal = wanted; ordinal < current; ordinal++) {
      if (existingPods.test(ordinal)) { // a pod never started, or already gone, holds nothing to keep
        draining.add(names.workerPod(ordinal));
      }
    }
    List<String> waiting = new ArrayList<>();
    for (String worker : draining) {
      try {
        Optional<SchedulerAdmin.WorkerState> state = admin.drain(schedulers, worker);
        if (state.isEmpty()) {
          waiting.add(worker + " is not connected to the schedulers");
        } else if (!state.get().drained()) {
          String detail = state.get().detail();
          waiting.add(worker + (detail.isEmpty() ? " is draining" : ": " + detail));
        }
      } catch (IOException e) {
        return new Decision(current, draining, "scale-down from " + current + " to " + wanted
            + " workers waits: the schedulers at " + schedulers + " are unreachable (" + e.getMessage()
            + "); annotate the cluster " + FORCE + "=true to scale down without draining");
      }
    }
    if (waiting.isEmpty()) {
      return new Decision(wanted, draining, null);
    }
    return new Decision(current, draining, "scale-down from " + current + " to " + wanted
        + " workers waits for drains: " + String.join("; ", waiting));
  }
}
