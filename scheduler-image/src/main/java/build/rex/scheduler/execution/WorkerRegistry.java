package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.Platform;
import build.rex.scheduler.cluster.WorkerStream;
import build.rex.storage.replication.ClusterStorage;
import build.rex.v1.DrainRequest;
import build.rex.v1.ExecutorInfo;
import build.rex.v1.Hello;
import build.rex.v1.Member;
import build.rex.v1.Membership;
import build.rex.v1.SchedulerMessage;
import build.rex.v1.StorageFigures;
import build.rex.v1.WorkerInfo;
import build.rex.v1.WorkerStatus;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workers connected to this scheduler, tracked once: they are the cluster's membership (every
 * worker registers with every scheduler) and the executors jobs run on. A worker is gone when its
 * stream ends or when it has been silent for too long; either way it leaves no entry behind and
 * its running jobs are handed back in the same step. Every membership change goes to the cluster
 * storage view and, as a Membership message, to every worker, so all of them place copies alike.
 *
 * <p>Guarded by the lock it is given, the {@link Dispatcher}'s: a worker's executors, the jobs on
 * them and the queue change together, so there is no second view of the workers to keep in step.
 */
public final class WorkerRegistry {
  private static final Logger log = LoggerFactory.getLogger(WorkerRegistry.class);

  /**
   * @param lostAfter how long a silent worker counts as connected
   * @param settleAtMost how long {@link #settled} waits for members that workers know of but that have not registered
   * @param clock nanoseconds, as {@link System#nanoTime}
   */
  public record Settings(int replicas, Duration lostAfter, Duration settleAtMost, LongSupplier clock) {
    public static Settings of(int replicas, Duration lostAfter) {
      return new Settings(replicas, lostAfter, Duration.ofSeconds(15), System::nanoTime);
    }
  }

  /** Where the membership goes: the cluster storage's view of who holds blobs ({@link ClusterStorage#update}). */
  public interface Placement {
    void update(List<ClusterStorage.Member> members, int replicas);
  }

  /** One connected worker: who it is, how it is, its executors and the jobs on them. */
  static final class ConnectedWorker {
    final Hello hello;
    final String id;
    final WorkerStream stream;
    final Map<String, Platform> executors = new LinkedHashMap<>();
    final Set<String> free = new LinkedHashSet<>();
    /** Executor to the job whose current attempt it has. */
    final Map<String, Job> running = new HashMap<>();
    WorkerStatus status;
    long lastSeenNanos;
    /** As of its last heartbeat. */
    StorageFigures storage = StorageFigures.getDefaultInstance();

    ConnectedWorker(Hello hello, WorkerStream stream, long now) {
      this.hello = hello;
      this.id = hello.getWorkerId();
      this.stream = stream;
      this.lastSeenNanos = now;
      this.status = WorkerStatus.newBuilder().setDraining(hello.getDraining()).build();
      hello.getExecutorsList().forEach(e -> executors.put(e.getExecutorId(), e.getProperties()));
    }
  }

  private final Object lock;
  private final Settings settings;
  private final Placement placement;
  private final BiConsumer<ConnectedWorker, String> onLost;
  private final Map<String, ConnectedWorker> workers = new LinkedHashMap<>();
  private long lastSweepNanos;
  private long firstJoinNanos;
  private boolean settled;

  /** @param onLost told (under the lock) of a worker that left and why, so its running jobs are requeued */
  WorkerRegistry(Object lock, Settings settings, Placement placement, BiConsumer<ConnectedWorker, String> onLost) {
    this.lock = lock;
    this.settings = settings;
    this.placement = placement;
    this.onLost = onLost;
  }

  public void connected(Hello hello, WorkerStream stream) {
    synchronized (lock) {
      long now = settings.clock().getAsLong();
      if (workers.isEmpty() && firstJoinNanos == 0) {
        firstJoinNanos = now;
      }
      ConnectedWorker previous = workers.remove(hello.getWorkerId());
      if (previous != null) {
        onLost.accept(previous, "reconnected");
        previous.stream.end(Status.ABORTED.withDescription("the same worker connected again"));
      }
      workers.put(hello.getWorkerId(), new ConnectedWorker(hello, stream, now));
      log.info("worker {} joined (storage {}, {} executors{})", hello.getWorkerId(), hello.getStorageEndpoint(),
          hello.getExecutorsCount(), hello.getDraining() ? ", draining" : "");
      changed();
    }
  }

  /** Any message from a worker shows it is alive. */
  public void seen(String workerId) {
    synchronized (lock) {
      ConnectedWorker worker = workers.get(workerId);
      if (worker != null) {
        worker.lastSeenNanos = settings.clock().getAsLong();
      }
    }
  }

  public void status(String workerId, WorkerStatus status) {
    synchronized (lock) {
      ConnectedWorker worker = workers.get(workerId);
      if (worker == null) {
        return;
      }
      boolean drainingChanged = worker.status.getDraining() != status.getDraining();
      worker.status = status;
      if (drainingChanged) {
        log.info("worker {} is {}", workerId, status.getDraining() ? "draining" : "no longer draining");
        changed();
      } else if (status.getDrained()) {
        log.info("worker {} is drained: safe to remove", workerId);
      }
    }
  }

  /** The worker's stream ended; ignored when it is an older stream of a worker that reconnected. */
  public void gone(String workerId, WorkerStream stream, String why) {
    synchronized (lock) {
      ConnectedWorker worker = workers.get(workerId);
      if (worker != null && worker.stream == stream) {
        remove(worker, why);
      }
    }
  }

  /**
   * Removes workers silent for longer than allowed; called every second. When this scheduler
   * itself was stalled (the sweep comes far too late: a long pause, a stopped process), the
   * silence is its own, not its workers': their clocks start again, and the heartbeats waiting
   * on the wire show who is still there. Otherwise a scheduler back from a pause would drop
   * every worker at once and answer NOT_FOUND for blobs they hold.
   */
  public void sweep() {
    synchronized (lock) {
      long now = settings.clock().getAsLong();
      long sinceLast = lastSweepNanos == 0 ? 0 : now - lastSweepNanos;
      lastSweepNanos = now;
      long lostAfter = settings.lostAfter().toNanos();
      if (sinceLast > lostAfter / 2) {
        log.warn("this scheduler was stalled for {} ms; its workers' silence meanwhile does not count",
            TimeUnit.NANOSECONDS.toMillis(sinceLast));
        workers.values().forEach(worker -> worker.lastSeenNanos = now);
        return;
      }
      for (ConnectedWorker worker : List.copyOf(workers.values())) {
        if (now - worker.lastSeenNanos > lostAfter) {
          remove(worker, "silent for more than " + settings.lostAfter().toSeconds() + " s");
          worker.stream.end(Status.UNAVAILABLE.withDescription("declared lost"));
        }
      }
    }
  }

  /** Asks a worker to drain; empty when no such worker is connected. */
  public Optional<WorkerInfo> drain(String workerId) {
    return drain(workerId, false);
  }

  /** Asks a worker to drain, or with {@code undo} to stop draining; empty when no such worker is connected. */
  public Optional<WorkerInfo> drain(String workerId, boolean undo) {
    synchronized (lock) {
      ConnectedWorker worker = workers.get(workerId);
      if (worker == null) {
        return Optional.empty();
      }
      if (worker.status.getDraining() == undo) {
        log.info("{} worker {} on request", undo ? "undraining" : "draining", workerId);
        worker.stream.send(SchedulerMessage.newBuilder().setDrain(DrainRequest.newBuilder().setUndo(undo)).build());
      }
      return Optional.of(info(worker));
    }
  }

  /** Every connected worker, with the executors running an action for this scheduler. */
  public List<WorkerInfo> list() {
    synchronized (lock) {
      return workers.values().stream().map(WorkerRegistry::info).toList();
    }
  }

  private static WorkerInfo info(ConnectedWorker worker) {
    WorkerInfo.Builder info = WorkerInfo.newBuilder();
    worker.executors.forEach((id, platform) -> {
      Job job = worker.running.get(id);
      info.addExecutorList(ExecutorInfo.newBuilder().setExecutorId(id).setPlatform(ExecutionMetrics.label(platform))
          .setOperation(job == null ? "" : job.name));
    });
    return info
        .setWorkerId(worker.id)
        .setAddress(worker.hello.getStorageEndpoint())
        .setExecutors(worker.executors.size())
        .setBusyExecutors(worker.running.size())
        .setDraining(worker.status.getDraining())
        .setDrained(worker.status.getDrained())
        .setDetail(worker.status.getDetail())
        .setStorage(worker.storage)
        .addAllSandboxLayers(worker.hello.getSandboxLayersList())
        .build();
  }

  /**
   * Whether this scheduler knows the whole membership: every storage member that a connected
   * worker knows of has registered here too, or {@code settleAtMost} has passed since the first
   * worker did. Once settled it stays so; until then the scheduler is not ready (it would place
   * blobs on the wrong owners and miss blobs that exist).
   */
  public boolean settled() {
    synchronized (lock) {
      if (!settled && !workers.isEmpty()) {
        boolean everyKnownMemberHere = workers.values().stream()
            .allMatch(worker -> workers.keySet().containsAll(worker.hello.getKnownMembersList()));
        settled = everyKnownMemberHere
            || settings.clock().getAsLong() - firstJoinNanos > settings.settleAtMost().toNanos();
        if (settled) {
          log.info("membership complete: {} workers", workers.size());
        }
      }
      return settled;
    }
  }

  public int size() {
    synchronized (lock) {
      return workers.size();
    }
  }

  /** Executors of all connected workers. */
  public int executors() {
    synchronized (lock) {
      return workers.values().stream().mapToInt(w -> w.executors.size()).sum();
    }
  }

  /** Executors of connected workers running an action for this scheduler. */
  public int busyExecutors() {
    synchronized (lock) {
      return workers.values().stream().mapToInt(w -> w.running.size()).sum();
    }
  }

  /** Ends every worker's stream (this scheduler is stopping); they stay with the other schedulers. */
  public void disconnectAll() {
    synchronized (lock) {
      for (ConnectedWorker worker : List.copyOf(workers.values())) {
        remove(worker, "scheduler stopping");
        worker.stream.end(null);
      }
    }
  }

  // ---- for the Dispatcher, which holds the lock ----

  ConnectedWorker get(String workerId) {
    return workers.get(workerId);
  }

  Collection<ConnectedWorker> all() {
    return workers.values();
  }

  private void remove(ConnectedWorker worker, String why) {
    workers.remove(worker.id);
    log.warn("worker {} left ({})", worker.id, why);
    onLost.accept(worker, why);
    changed();
  }

  private void changed() {
    Membership.Builder membership = Membership.newBuilder().setReplicas(settings.replicas());
    List<ClusterStorage.Member> members = new ArrayList<>();
    for (ConnectedWorker worker : workers.values()) {
      String endpoint = worker.hello.getStorageEndpoint();
      if (endpoint.isEmpty()) {
        continue; // runs actions, holds no storage
      }
      boolean draining = worker.status.getDraining();
      membership.addMembers(Member.newBuilder().setWorkerId(worker.id).setAddress(endpoint).setDraining(draining));
      members.add(new ClusterStorage.Member(worker.id, endpoint, draining));
    }
    placement.update(members, settings.replicas());
    SchedulerMessage message = SchedulerMessage.newBuilder().setMembership(membership).build();
    workers.values().forEach(worker -> worker.stream.send(message));
  }
}
