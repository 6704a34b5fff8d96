package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.Platform;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The queued jobs: one queue per distinct platform, each best first (lower priority value,
 * then older). Dispatching looks only at each platform's best job: the others of a platform need
 * exactly what it needs, so when it finds no executor neither do they. What a dispatch costs
 * depends on how many platforms wait, not on how many jobs. Not thread-safe (the Dispatcher's
 * lock guards it).
 */
final class PlatformQueues {
  static final Comparator<Job> BEST_FIRST = Comparator.<Job>comparingInt(job -> job.priority)
      .thenComparingLong(job -> job.sequence);

  private final Map<Platform, TreeSet<Job>> queues = new HashMap<>();
  private int size;

  /** The same key for the same platform whatever the order its client listed the properties in. */
  static Platform key(Platform platform) {
    return Platform.newBuilder().addAllProperties(platform.getPropertiesList().stream()
        .sorted(Comparator.comparing(Platform.Property::getName).thenComparing(Platform.Property::getValue))
        .toList()).build();
  }

  void add(Job job) {
    if (queues.computeIfAbsent(key(job.platform), k -> new TreeSet<>(BEST_FIRST)).add(job)) {
      size++;
    }
  }

  boolean remove(Job job) {
    Platform key = key(job.platform);
    TreeSet<Job> queue = queues.get(key);
    if (queue == null || !queue.remove(job)) {
      return false;
    }
    size--;
    if (queue.isEmpty()) {
      queues.remove(key);
    }
    return true;
  }

  boolean contains(Job job) {
    TreeSet<Job> queue = queues.get(key(job.platform));
    return queue != null && queue.contains(job);
  }

  int size() {
    return size;
  }

  /** Distinct platforms with jobs waiting. */
  int platforms() {
    return queues.size();
  }

  /**
   * Offers jobs to {@code assign}, best first across all platforms; a job it takes leaves the
   * queue and the next of its platform is offered; once it refuses a platform's best job, the
   * rest of that platform wait for the next dispatch.
   */
  void dispatch(Predicate<Job> assign) {
    PriorityQueue<TreeSet<Job>> heads = new PriorityQueue<>((a, b) -> BEST_FIRST.compare(a.first(), b.first()));
    heads.addAll(queues.values());
    while (!heads.isEmpty()) {
      TreeSet<Job> queue = heads.poll();
      Job best = queue.first();
      if (!assign.test(best)) {
        continue;
      }
      queue.pollFirst();
      size--;
      if (queue.isEmpty()) {
        queues.remove(key(best.platform));
      } else {
        heads.add(queue);
      }
    }
  }
}
