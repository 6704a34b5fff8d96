package build.rex.operator.scaling;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Optional;

/** The part of a cluster's scheduler admin API the operator uses: draining a worker, reading the queue. */
public interface SchedulerAdmin {
  /** A worker as the scheduler sees it. */
  record WorkerState(String workerId, boolean draining, boolean drained, String detail) {}

  /**
   * Asks the schedulers at {@code base} to drain {@code workerId} (a no-op when it already is)
   * and returns the worker's state; empty when no scheduler there knows that worker.
   *
   * @throws IOException when the schedulers cannot be reached
   */
  Optional<WorkerState> drain(URI base, String workerId) throws IOException;

  /**
   * The queue and the executors of every scheduler at {@code base} (its host name may resolve to
   * several, one per scheduler), added up.
   *
   * @throws IOException when a scheduler there cannot be reached
   */
  QueueLoad load(URI base) throws IOException;

  /**
   * The sandbox layers each worker connected to the schedulers at {@code base} runs actions in,
   * by worker id, as the workers reported them.
   *
   * @throws IOException when a scheduler there cannot be reached
   */
  java.util.Map<String, List<String>> sandboxLayers(URI base) throws IOException;
}
