package build.rex.scheduler.ui;

import build.rex.scheduler.cluster.SchedulerPeers;
import build.rex.scheduler.execution.Dispatcher;
import build.rex.scheduler.execution.ExecutionMetrics;
import build.rex.scheduler.execution.Job;
import build.rex.v1.BuildInFlight;
import build.rex.v1.ClusterOverview;
import build.rex.v1.ExecutorInfo;
import build.rex.v1.PlatformExecutors;
import build.rex.v1.QueueFigure;
import build.rex.v1.WorkerInfo;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/** The cluster at a glance, as one scheduler sees it: schedulers, workers, executors, queues, cache, builds. */
final class ClusterView {
  /** A build with nothing unfinished is still listed this long after its last action finished. */
  private static final long BUILD_IDLE_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
  private final Dispatcher dispatcher;
  private final SchedulerPeers peers;
  private final CacheWindow cache;
  private final int cacheWindowSeconds;

  ClusterView(Dispatcher dispatcher, SchedulerPeers peers, CacheWindow cache, int cacheWindowSeconds) {
    this.dispatcher = dispatcher;
    this.peers = peers;
    this.cache = cache;
    this.cacheWindowSeconds = cacheWindowSeconds;
  }

  ClusterOverview overview() {
    List<WorkerInfo> workers = dispatcher.workers().list();
    ClusterOverview.Builder overview = ClusterOverview.newBuilder()
        .setScheduler(peers.self() == null ? "" : peers.self())
        .addAllWorkers(workers)
        .setCacheWindowSeconds(cacheWindowSeconds);
    TreeSet<String> schedulers = new TreeSet<>(peers.all());
    if (peers.self() != null) {
      schedulers.add(peers.self());
    }
    overview.addAllSchedulers(schedulers);
    long[] figures = cache.figures();
    overview.setCacheHits(figures[0]).setCacheLookups(figures[1]);
    overview.setUnderReplicatedBlobs(workers.stream().mapToLong(w -> w.getStorage().getUnderReplicatedBlobs()).sum());

    Map<String, int[]> executors = new TreeMap<>();
    for (WorkerInfo worker : workers) {
      for (ExecutorInfo executor : worker.getExecutorListList()) {
        int[] counts = executors.computeIfAbsent(executor.getPlatform(), p -> new int[2]);
        counts[0]++;
        counts[1] += executor.getOperation().isEmpty() ? 0 : 1;
      }
    }
    executors.forEach((platform, counts) -> overview.addExecutors(
        PlatformExecutors.newBuilder().setPlatform(platform).setTotal(counts[0]).setBusy(counts[1])));

    Map<String, Map<Integer, Integer>> queues = new TreeMap<>();
    Map<String, BuildInFlight.Builder> builds = new TreeMap<>();
    for (Job job : dispatcher.list()) {
      Job.State state = job.state();
      boolean finished = state == Job.State.COMPLETED;
      if (finished && job.nanosInState() > BUILD_IDLE_NANOS) {
        continue;
      }
      boolean waiting = state == Job.State.QUEUED || state == Job.State.RETRY_WAIT;
      if (waiting) {
        queues.computeIfAbsent(ExecutionMetrics.label(job.platform()), p -> new TreeMap<>())
            .merge(job.priority(), 1, Integer::sum);
      }
      String invocation = job.requester().getToolInvocationId();
      if (!invocation.isEmpty()) {
        BuildInFlight.Builder build = builds.computeIfAbsent(invocation, id -> BuildInFlight.newBuilder()
            .setToolInvocationId(id).setTool((job.requester().getToolDetails().getToolName() + " "
                + job.requester().getToolDetails().getToolVersion()).trim()));
        if (finished) {
          build.setFinished(build.getFinished() + 1);
        } else if (waiting) {
          build.setQueued(build.getQueued() + 1);
        } else {
          build.setRunning(build.getRunning() + 1);
        }
      }
    }
    queues.forEach((platform, byPriority) -> byPriority.forEach((priority, count) -> overview.addQueues(
        QueueFigure.newBuilder().setPlatform(platform).setPriority(priority).setQueued(count))));
    builds.values().forEach(overview::addBuilds);
    return overview.build();
  }
}
