package build.rex.scheduler.cluster;

import build.rex.storage.replication.ClusterStorage;
import build.rex.v1.DrainRequest;
import build.rex.v1.Hello;
import build.rex.v1.Member;
import build.rex.v1.Membership;
import build.rex.v1.SchedulerMessage;
import build.rex.v1.WorkerInfo;
import build.rex.v1.WorkerStatus;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workers connected to this scheduler, which is the cluster's membership: every worker
 * registers with every scheduler. A worker is gone when its stream ends or when it has been
 * silent for too long; either way it leaves no entry behind. Every change goes to the cluster
 * storage view and, as a Membership message, to every worker, so all of them place copies alike.
 */
public final class WorkerRegistry {
  private static final Logger log = LoggerFactory.getLogger(WorkerRegistry.class);
  private final ClusterStorage storage;
  private final int replicas;
  private final Duration lostAfter;
  private final BiConsumer<String, String> onLost;
  private final Map<String, Entry> workers = new LinkedHashMap<>();
  private final Duration settleAtMost;
  private final java.util.function.LongSupplier clock;
  private long lastSweepNanos;
  private long firstJoinNanos;
  private boolean settled;

  /** One connected worker. */
  private static final class Entry {
    final Hello hello;
    final WorkerStream stream;
    WorkerStatus status;
    long lastSeenNanos;

    Entry(Hello hello, WorkerStream stream, long now) {
      this.lastSeenNanos = now;
      this.hello = hello;
      this.stream = stream;
      this.status = WorkerStatus.newBuilder().setDraining(hello.getDraining()).build();
    }
  }

  /**
   * @param onLost told (worker id, why) when a worker leaves, so its running actions are requeued
   */
  public WorkerRegistry(ClusterStorage storage, int replicas, Duration lostAfter, BiConsumer<String, String> onLost) {
    this(storage, replicas, lostAfter, onLost, Duration.ofSeconds(15), System::nanoTime);
  }

  /**
   * @param settleAtMost how long {@link #settled} waits for members that workers know of but that have not registered
   * @param clock nanoseconds, as {@link System#nanoTime}
   */
  public WorkerRegistry(ClusterStorage storage, int replicas, Duration lostAfter, BiConsumer<String, String> onLost,
      Duration settleAtMost, java.util.function.LongSupplier clock) {
    this.settleAtMost = settleAtMost;
    this.clock = clock;
    this.storage = storage;
    this.replicas = replicas;
    this.lostAfter = lostAfter;
    this.onLost = onLost;
  }

  public synchronized void connected(Hello hello, WorkerStream stream) {
    if (workers.isEmpty() && firstJoinNanos == 0) {
      firstJoinNanos = clock.getAsLong();
    }
    Entry previous = workers.put(hello.getWorkerId(), new Entry(hello, stream, clock.getAsLong()));
    if (previous != null) {
      previous.stream.end(Status.ABORTED.withDescription("the same worker connected again"));
    }
    log.info("worker {} joined (storage {}, {} executors{})", hello.getWorkerId(), hello.getStorageEndpoint(),
        hello.getExecutorsCount(), hello.getDraining() ? ", draining" : "");
    changed();
  }

  /** Any message from a worker shows it is alive. */
  public synchronized void seen(String workerId) {
    Entry entry = workers.get(workerId);
    if (entry != null) {
      entry.lastSeenNanos = clock.getAsLong();
    }
  }

  public synchronized void status(String workerId, WorkerStatus status) {
    Entry entry = workers.get(workerId);
    if (entry == null) {
      return;
    }
    boolean drainingChanged = entry.status.getDraining() != status.getDraining();
    entry.status = status;
    if (drainingChanged) {
      log.info("worker {} is {}", workerId, status.getDraining() ? "draining" : "no longer draining");
      changed();
    } else if (status.getDrained()) {
      log.info("worker {} is drained: safe to remove", workerId);
    }
  }

  /** The worker's stream ended; ignored when it is an older stream of a worker that reconnected. */
  public synchronized void gone(String workerId, WorkerStream stream, String why) {
    Entry entry = workers.get(workerId);
    if (entry != null && entry.stream == stream) {
      remove(entry, why);
    }
  }

  /**
   * Removes workers silent for longer than allowed; called every second. When this scheduler
   * itself was stalled (the sweep comes far too late: a long pause, a stopped process), the
   * silence is its own, not its workers': their clocks start again, and the heartbeats waiting
   * on the wire show who is still there. Otherwise a scheduler back from a pause would drop
   * every worker at once and answer NOT_FOUND for blobs they hold.
   */
  public synchronized void sweep() {
    long now = clock.getAsLong();
    long sinceLast = lastSweepNanos == 0 ? 0 : now - lastSweepNanos;
    lastSweepNanos = now;
    if (sinceLast > lostAfter.toNanos() / 2) {
      log.warn("this scheduler was stalled for {} ms; its workers' silence meanwhile does not count",
          java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(sinceLast));
      workers.values().forEach(entry -> entry.lastSeenNanos = now);
      return;
    }
    for (Entry entry : List.copyOf(workers.values())) {
      if (now - entry.lastSeenNanos > lostAfter.toNanos()) {
        remove(entry, "silent for more than " + lostAfter.toSeconds() + " s");
        entry.stream.end(Status.UNAVAILABLE.withDescription("declared lost"));
      }
    }
  }

  private void remove(Entry entry, String why) {
    workers.remove(entry.hello.getWorkerId());
    log.warn("worker {} left ({})", entry.hello.getWorkerId(), why);
    onLost.accept(entry.hello.getWorkerId(), why);
    changed();
  }

  /** Asks a worker to drain; empty when no such worker is connected. */
  public synchronized Optional<WorkerInfo> drain(String workerId, java.util.function.ToIntFunction<String> busy) {
    Entry entry = workers.get(workerId);
    if (entry == null) {
      return Optional.empty();
    }
    if (!entry.status.getDraining()) {
      log.info("draining worker {} on request", workerId);
      entry.stream.send(SchedulerMessage.newBuilder().setDrain(DrainRequest.getDefaultInstance()).build());
    }
    return Optional.of(info(entry, busy));
  }

  /** Every connected worker; {@code busy} counts a worker's executors running an action. */
  public synchronized List<WorkerInfo> list(java.util.function.ToIntFunction<String> busy) {
    List<WorkerInfo> list = new ArrayList<>();
    workers.values().forEach(entry -> list.add(info(entry, busy)));
    return list;
  }

  private static WorkerInfo info(Entry entry, java.util.function.ToIntFunction<String> busy) {
    return WorkerInfo.newBuilder()
        .setWorkerId(entry.hello.getWorkerId())
        .setAddress(entry.hello.getStorageEndpoint())
        .setExecutors(entry.hello.getExecutorsCount())
        .setBusyExecutors(busy.applyAsInt(entry.hello.getWorkerId()))
        .setDraining(entry.status.getDraining())
        .setDrained(entry.status.getDrained())
        .setDetail(entry.status.getDetail())
        .build();
  }

  /**
   * Whether this scheduler knows the whole membership: every storage member that a connected
   * worker knows of has registered here too, or {@code settleAtMost} has passed since the first
   * worker did. Once settled it stays so; until then the scheduler is not ready (it would place
   * blobs on the wrong owners and miss blobs that exist).
   */
  public synchronized boolean settled() {
    if (!settled && !workers.isEmpty()) {
      boolean everyKnownMemberHere = workers.values().stream()
          .allMatch(entry -> workers.keySet().containsAll(entry.hello.getKnownMembersList()));
      settled = everyKnownMemberHere || clock.getAsLong() - firstJoinNanos > settleAtMost.toNanos();
      if (settled) {
        log.info("membership complete: {} workers", workers.size());
      }
    }
    return settled;
  }

  public synchronized int size() {
    return workers.size();
  }

  /** Ends every worker's stream (this scheduler is stopping); they stay with the other schedulers. */
  public synchronized void disconnectAll() {
    for (Entry entry : List.copyOf(workers.values())) {
      remove(entry, "scheduler stopping");
      entry.stream.end(null);
    }
  }

  private void changed() {
    Membership.Builder membership = Membership.newBuilder().setReplicas(replicas);
    List<ClusterStorage.Member> members = new ArrayList<>();
    for (Entry entry : workers.values()) {
      if (entry.hello.getStorageEndpoint().isEmpty()) {
        continue; // runs actions, holds no storage
      }
      boolean draining = entry.status.getDraining();
      membership.addMembers(Member.newBuilder().setWorkerId(entry.hello.getWorkerId())
          .setAddress(entry.hello.getStorageEndpoint()).setDraining(draining));
      members.add(new ClusterStorage.Member(entry.hello.getWorkerId(), entry.hello.getStorageEndpoint(), draining));
    }
    storage.update(members, replicas);
    SchedulerMessage message = SchedulerMessage.newBuilder().setMembership(membership).build();
    workers.values().forEach(entry -> entry.stream.send(message));
  }
}
