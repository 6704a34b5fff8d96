package build.rex.worker.cluster;

import build.rex.storage.DaemonThreads;
import build.rex.storage.replication.ClusterStorage;
import build.rex.v1.WorkerMessage;
import build.rex.v1.WorkerStatus;
import build.rex.worker.execution.ExecutorPool;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes this worker out of the cluster without losing anything: it stops taking actions, lets
 * the running ones finish, announces itself as draining (so it owns no new copies), copies every
 * blob and Action Cache entry it holds to their remaining owners, and then reports drained. Each
 * step is announced to every scheduler as a WorkerStatus.
 */
public final class Drainer {
  private static final Logger log = LoggerFactory.getLogger(Drainer.class);
  private static final Duration RETRY = Duration.ofSeconds(2);
  private final String selfId;
  private final ExecutorPool pool;
  private final Replicator replicator;
  private final ClusterStorage storage;
  private final Consumer<WorkerMessage> announce;
  private volatile WorkerStatus status = WorkerStatus.getDefaultInstance();
  private CompletableFuture<WorkerStatus> drained;
  private Thread draining;

  /** @param pool null for a worker that runs no actions */
  public Drainer(String selfId, ExecutorPool pool, Replicator replicator, ClusterStorage storage,
      Consumer<WorkerMessage> announce) {
    this.selfId = selfId;
    this.pool = pool;
    this.replicator = replicator;
    this.storage = storage;
    this.announce = announce;
  }

  public WorkerStatus status() {
    return status;
  }

  public boolean isDraining() {
    return status.getDraining();
  }

  /** Starts the drain (once); the future completes when the worker is drained. */
  public synchronized CompletableFuture<WorkerStatus> start() {
    if (drained == null) {
      log.info("draining: taking no new actions, handing blobs to the other workers");
      CompletableFuture<WorkerStatus> mine = new CompletableFuture<>();
      drained = mine;
      set(mine, false, "stopping new actions");
      if (pool != null) {
        pool.stopTakingWork();
      }
      draining = DaemonThreads.named("drain").newThread(() -> drain(mine));
      draining.start();
    }
    return drained;
  }

  /**
   * Undoes a drain (started by mistake, or a drained worker kept after all): the copying stops,
   * the worker announces itself as a full member again and takes actions. Copies already made
   * stay; re-replication evens them out.
   */
  public synchronized void undo() {
    if (drained == null) {
      return;
    }
    log.info("drain undone: taking actions and new copies again");
    draining.interrupt();
    drained.completeExceptionally(new IllegalStateException("the drain was undone"));
    drained = null;
    status = WorkerStatus.getDefaultInstance();
    announce.accept(WorkerMessage.newBuilder().setStatus(status).build());
    if (pool != null) {
      pool.startTakingWork();
    }
  }

  private void drain(CompletableFuture<WorkerStatus> mine) {
    try {
      while (pool != null && !pool.awaitIdle(RETRY)) {
        set(mine, false, pool.busyExecutors() + " action(s) still running");
      }
      for (int waited = 0; !storage.isDraining(selfId) && waited < 30; waited++) {
        set(mine, false, "waiting for the schedulers to see this worker as draining");
        Thread.sleep(RETRY.toMillis() / 2);
      }
      while (true) {
        if (storage.casPlacement().isEmpty()) {
          set(mine, false, "no other worker is up to take this worker's blobs");
        } else {
          Replicator.PassResult result = replicator.copyNow().get();
          if (result.complete()) {
            break;
          }
          set(mine, false, (result.lacking() - result.copied()) + " blob(s) or entries not yet on their other owners ("
              + result.failed() + " copies failed); retrying");
        }
        Thread.sleep(RETRY.toMillis());
      }
      set(mine, true, "drained: no action running, every blob is on its other owners; safe to remove");
      log.info("drained: safe to remove");
      mine.complete(status);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException e) {
      set(mine, false, "drain failed: " + e.getCause());
      mine.completeExceptionally(e.getCause());
    }
  }

  /** Announces a step of the drain {@code of}; nothing once that drain was undone. */
  private synchronized void set(CompletableFuture<WorkerStatus> of, boolean done, String detail) {
    if (of != drained) {
      return;
    }
    WorkerStatus next = WorkerStatus.newBuilder().setDraining(true).setDrained(done).setDetail(detail).build();
    if (!next.equals(status)) {
      status = next;
      announce.accept(WorkerMessage.newBuilder().setStatus(next).build());
    }
  }
}
