package build.rex.worker.execution;

import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.Platform;
import build.rex.storage.DaemonThreads;
import build.rex.v1.ActionFinished;
import build.rex.v1.ActionStarted;
import build.rex.v1.Assignment;
import build.rex.v1.AssignmentDeclined;
import build.rex.v1.Executor;
import build.rex.v1.ExecutorFree;
import build.rex.v1.ExecutorTaken;
import build.rex.v1.Heartbeat;
import build.rex.v1.ResultNotCached;
import build.rex.v1.RunningAction;
import build.rex.v1.WorkerMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;

/**
 * The worker's executors. Every scheduler may offer work to a free executor; the first offer
 * takes it, later ones are declined (the scheduler requeues them) and every other scheduler
 * hears the executor is taken. The result goes back to the scheduler that sent the work; if
 * that scheduler's stream ends, its actions are killed, since it has already given them to
 * someone else.
 */
public final class ExecutorPool implements AutoCloseable {
  private final List<Executor> executors;
  private final ActionRunner runner;
  private final ResultWriter results;
  /** Sends to every scheduler but the given one (null: to all). */
  private final BiConsumer<SchedulerConnection, WorkerMessage> broadcast;
  private final ExecutorService threads;
  private final Map<String, Running> busy = new HashMap<>();
  /** Results reported and still being written to the Action Cache. */
  private int resultsToStore;
  /** The highest attempt each scheduler has offered on its current stream (see Heartbeat). */
  private final Map<SchedulerConnection, Long> lastOffered = new HashMap<>();
  private boolean draining;

  /** An action on one executor. */
  private record Running(String operation, long attempt, SchedulerConnection from, CommandRunner command) {}

  public ExecutorPool(List<Executor> executors, ActionRunner runner, build.rex.storage.ac.ActionCache actionCache,
      BiConsumer<SchedulerConnection, WorkerMessage> broadcast) {
    this.results = new ResultWriter(actionCache);
    this.executors = List.copyOf(executors);
    this.runner = runner;
    this.broadcast = broadcast;
    // An executor's next action may start while its last result is still being stored: at most
    // two threads per executor.
    this.threads = Executors.newCachedThreadPool(DaemonThreads.named("executor"));
  }

  public List<Executor> executors() {
    return executors;
  }

  /** Messages a newly connected scheduler needs: which executors are free. */
  public synchronized List<WorkerMessage> freeExecutors() {
    List<WorkerMessage> free = new ArrayList<>();
    if (!draining) {
      executors.stream().map(Executor::getExecutorId).filter(id -> !busy.containsKey(id))
          .forEach(id -> free.add(free(id)));
    }
    return free;
  }

  /**
   * Work offered by a scheduler: taken if the executor is free, declined otherwise. The offer
   * counts as seen (in heartbeats) only once it is taken or its decline is sent, so a heartbeat
   * never tells the scheduler we lack an attempt whose decline is still to come.
   */
  public void offer(SchedulerConnection from, Assignment assignment) {
    String executor = assignment.getExecutorId();
    Running running;
    synchronized (this) {
      Platform offered = offered(executor);
      if (draining || offered == null || busy.containsKey(executor)) {
        running = null;
      } else {
        running = new Running(assignment.getOperation(), assignment.getAttempt(), from, new CommandRunner());
        busy.put(executor, running);
        seen(from, assignment.getAttempt());
      }
    }
    if (running == null) {
      from.send(WorkerMessage.newBuilder().setDeclined(AssignmentDeclined.newBuilder()
          .setOperation(assignment.getOperation()).setExecutorId(executor).setAttempt(assignment.getAttempt())).build());
      synchronized (this) {
        seen(from, assignment.getAttempt());
      }
      return;
    }
    broadcast.accept(from, WorkerMessage.newBuilder().setTaken(ExecutorTaken.newBuilder().setExecutorId(executor)).build());
    threads.execute(() -> run(assignment, running));
  }

  private void seen(SchedulerConnection from, long attempt) {
    lastOffered.merge(from, attempt, Math::max);
  }

  /**
   * What this worker holds for one scheduler, for its heartbeat: call it while holding that
   * scheduler's send order (see SchedulerLink#sendComputed), so nothing sent before it is newer.
   */
  public synchronized Heartbeat heartbeat(SchedulerConnection to) {
    Heartbeat.Builder heartbeat = Heartbeat.newBuilder().setCarriesState(true)
        .setLastAttempt(lastOffered.getOrDefault(to, 0L));
    busy.forEach((executor, running) -> {
      if (running.from() == to) {
        heartbeat.addRunning(RunningAction.newBuilder().setOperation(running.operation())
            .setAttempt(running.attempt()).setExecutorId(executor));
      }
    });
    if (!draining) {
      executors.stream().map(Executor::getExecutorId).filter(id -> !busy.containsKey(id))
          .forEach(heartbeat::addFreeExecutors);
    }
    return heartbeat.build();
  }

  private Platform offered(String executorId) {
    return executors.stream().filter(e -> e.getExecutorId().equals(executorId)).findFirst()
        .map(Executor::getProperties).orElse(null);
  }

  private void run(Assignment assignment, Running running) {
    String executor = assignment.getExecutorId();
    boolean freeAgain;
    ExecuteResponse response = null;
    boolean reported = false;
    try {
      running.from().send(WorkerMessage.newBuilder().setStarted(ActionStarted.newBuilder()
          .setOperation(assignment.getOperation()).setAttempt(assignment.getAttempt())).build());
      response = runner.run(assignment, offered(executor), running.command());
      // The client's answer goes first; the Action Cache write follows (see ActionFinished).
      running.from().send(WorkerMessage.newBuilder().setFinished(ActionFinished.newBuilder()
          .setOperation(assignment.getOperation()).setExecutorId(executor).setAttempt(assignment.getAttempt())
          .setResponse(response).setCacheHandled(true)).build());
      reported = true;
    } finally {
      // Only after the finished message: a heartbeat between the two would say the attempt is lost.
      synchronized (this) {
        busy.remove(executor);
        freeAgain = !draining;
        if (reported) {
          resultsToStore++;
        }
        notifyAll();
      }
    }
    try {
      if (freeAgain) {
        broadcast.accept(null, free(executor));
      }
      if (!results.store(assignment, response)) {
        running.from().send(WorkerMessage.newBuilder().setResultNotCached(ResultNotCached.newBuilder()
            .setInstanceName(assignment.getInstanceName()).setActionDigest(assignment.getActionDigest())
            .setResult(response.getResult()).setOperation(assignment.getOperation())).build());
      }
    } finally {
      synchronized (this) {
        resultsToStore--;
        notifyAll();
      }
    }
  }

  /** A scheduler cancelled one attempt of its operations (0: whichever runs). */
  public synchronized void cancel(SchedulerConnection from, String operation, long attempt) {
    busy.values().stream().filter(r -> r.from() == from && r.operation().equals(operation)
        && (attempt == 0 || r.attempt() == attempt)).forEach(r -> r.command().cancel());
  }

  /** A scheduler's stream ended: it has requeued what it gave us, so those actions stop here. */
  public synchronized void schedulerLost(SchedulerConnection from) {
    busy.values().stream().filter(r -> r.from() == from).forEach(r -> r.command().cancel());
    lastOffered.remove(from);
  }

  /** Takes no more work; every scheduler hears that the free executors are taken. */
  public void stopTakingWork() {
    List<String> free;
    synchronized (this) {
      draining = true;
      free = executors.stream().map(Executor::getExecutorId).filter(id -> !busy.containsKey(id)).toList();
    }
    free.forEach(id -> broadcast.accept(null, WorkerMessage.newBuilder()
        .setTaken(ExecutorTaken.newBuilder().setExecutorId(id)).build()));
  }

  /** Takes actions again after {@link #stopTakingWork} (a drain undone): idle executors say they are free. */
  public void startTakingWork() {
    List<String> free;
    synchronized (this) {
      draining = false;
      free = executors.stream().map(Executor::getExecutorId).filter(id -> !busy.containsKey(id)).toList();
    }
    free.forEach(id -> broadcast.accept(null, free(id)));
  }

  /** Waits up to {@code timeout} for running actions to finish and their results to be stored; true when none is left. */
  public synchronized boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!busy.isEmpty() || resultsToStore > 0) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }

  public synchronized int busyExecutors() {
    return busy.size();
  }

  private static WorkerMessage free(String executorId) {
    return WorkerMessage.newBuilder().setFree(ExecutorFree.newBuilder().setExecutorId(executorId)).build();
  }

  /** Kills every running action; their results are never reported. */
  @Override
  public synchronized void close() {
    busy.values().forEach(r -> r.command().cancel());
    threads.shutdownNow();
  }
}
