package build.rex.operator.scaling;

import build.rex.operator.api.Durations;
import build.rex.operator.api.RemoteExecutionClusterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How many workers a cluster's queue asks for. Each reconciliation adds a recommendation (enough
 * workers that every executor pool has at most targetQueuedPerExecutor actions waiting per
 * executor, and no fewer executors than are busy); the count follows only what held over the
 * delays: up to the lowest recommendation of the last scaleUpDelay, down to the highest of the
 * last scaleDownDelay. A queue that comes and goes within the delays moves nothing. The history
 * is this operator's memory: after a restart (or a leader change) each delay is waited out again.
 */
public final class Autoscaler {
  /** What the autoscaler wants and why, in words for the status and Events. */
  public record Decision(int replicas, int recommended, String reason) {}

  private record Sample(Instant at, int replicas) {}

  private final Map<String, Deque<Sample>> history = new ConcurrentHashMap<>();

  /**
   * @param cluster namespace/name, the key of its history
   * @param current the workers the cluster runs now (the StatefulSet's count, or minReplicas for a new one)
   */
  public Decision decide(String cluster, RemoteExecutionClusterSpec.Workers workers, QueueLoad load, int current,
      Instant now) {
    RemoteExecutionClusterSpec.Autoscale spec = workers.autoscale;
    int recommended = recommend(workers, load);
    Duration up = Durations.parse(spec.scaleUpDelay);
    Duration down = Durations.parse(spec.scaleDownDelay);
    Deque<Sample> samples = history.computeIfAbsent(cluster, key -> new ArrayDeque<>());
    synchronized (samples) {
      samples.addLast(new Sample(now, recommended));
      Instant oldest = now.minus(up.compareTo(down) > 0 ? up : down);
      // Keep the one sample in force when the longer window began, and all after it.
      while (samples.size() > 1 && !secondOf(samples).at().isAfter(oldest)) {
        samples.removeFirst();
      }
      int start = Math.min(Math.max(current, spec.minReplicas), spec.maxReplicas);
      Integer lowestOverUp = extreme(samples, now.minus(up), true);
      Integer highestOverDown = extreme(samples, now.minus(down), false);
      String figures = load.queuedTotal() + " actions queued, " + load.busyTotal() + " executors busy";
      if (start != current) {
        return new Decision(start, recommended, "kept within minReplicas " + spec.minReplicas + " and maxReplicas "
            + spec.maxReplicas);
      }
      if (lowestOverUp != null && lowestOverUp > current) {
        return new Decision(lowestOverUp, recommended, figures + ": scaling up from " + current);
      }
      if (highestOverDown != null && highestOverDown < current) {
        return new Decision(highestOverDown, recommended, figures + " for " + spec.scaleDownDelay + ": scaling down from "
            + current);
      }
      if (recommended > current) {
        return new Decision(current, recommended, figures + ": " + recommended + " wanted once that lasts "
            + spec.scaleUpDelay);
      }
      if (recommended < current) {
        return new Decision(current, recommended, figures + ": " + recommended + " would do; held until that lasts "
            + spec.scaleDownDelay);
      }
      return new Decision(current, recommended, figures + ": " + current + " workers are right");
    }
  }

  private static Sample secondOf(Deque<Sample> samples) {
    var iterator = samples.iterator();
    iterator.next();
    return iterator.next();
  }

  /** Forgets a cluster that is gone or no longer autoscaled. */
  public void forget(String cluster) {
    history.remove(cluster);
  }

  /**
   * The lowest (or highest) recommendation since {@code since}, or null when the history does not
   * reach back that far: a change must have held for the whole delay.
   */
  private static Integer extreme(Deque<Sample> samples, Instant since, boolean lowest) {
    Integer result = null;
    boolean covered = false;
    for (Sample sample : samples) { // oldest first
      if (!sample.at().isAfter(since)) {
        covered = true;
        result = sample.replicas(); // the latest of these was in force when the window began
      } else {
        result = result == null ? sample.replicas()
            : lowest ? Math.min(result, sample.replicas()) : Math.max(result, sample.replicas());
      }
    }
    return covered ? result : null;
  }

  /**
   * Workers for the queue now, within the bounds. Each platform that waits is served by every pool
   * offering all it asks for, so it needs as many workers as give it enough executors; each pool
   * needs enough workers for its busy executors. The largest need decides.
   */
  static int recommend(RemoteExecutionClusterSpec.Workers workers, QueueLoad load) {
    RemoteExecutionClusterSpec.Autoscale spec = workers.autoscale;
    Map<String, Map<String, String>> offers = new LinkedHashMap<>();
    int wanted = spec.minReplicas;
    for (RemoteExecutionClusterSpec.ExecutorPool pool : workers.executors) {
      Map<String, String> offered = new LinkedHashMap<>(pool.properties);
      offered.put("cpu", pool.cpu);
      offered.put("memory", pool.memory);
      offered.put("pool", pool.name);
      offers.put(pool.name, offered);
      wanted = Math.max(wanted, ceil(load.busyWith("pool", pool.name), pool.count));
    }
    for (QueueLoad.Queued queued : load.queued()) {
      int perWorker = 0;
      int busy = 0;
      for (RemoteExecutionClusterSpec.ExecutorPool pool : workers.executors) {
        if (offers.get(pool.name).entrySet().containsAll(queued.platform().entrySet())) {
          perWorker += pool.count;
          busy += load.busyWith("pool", pool.name);
        }
      }
      if (perWorker == 0 || queued.count() == 0) {
        continue; // no worker of this layout can run it: more workers would not help
      }
      int executors = spec.targetQueuedPerExecutor > 0
          ? Math.max(busy, (int) Math.ceil(queued.count() / spec.targetQueuedPerExecutor))
          : busy + queued.count();
      wanted = Math.max(wanted, ceil(executors, perWorker));
    }
    return Math.min(wanted, spec.maxReplicas);
  }

  private static int ceil(int amount, int per) {
    return (amount + per - 1) / per;
  }
}
