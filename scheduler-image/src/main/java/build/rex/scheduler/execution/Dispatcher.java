package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.bazel.remote.execution.v2.Platform;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.ac.ActionKey;
import build.rex.v1.ActionFinished;
import build.rex.v1.Assignment;
import build.rex.v1.CancelAction;
import build.rex.v1.Hello;
import build.rex.v1.SchedulerMessage;
import build.rex.scheduler.cluster.WorkerStream;
import com.google.protobuf.Duration;
import com.google.protobuf.util.Timestamps;
import com.google.rpc.Code;
import com.google.rpc.Status;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue and the executors. Jobs wait in priority order (lower first, then oldest); an idle
 * executor takes the first job whose platform it satisfies. Identical in-flight actions are
 * merged unless do_not_cache. A lost worker's running jobs go back to the queue, up to a bounded
 * number of attempts. Thread-safe: every change happens under this object's lock.
 */
public final class Dispatcher {
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
  private final PlatformMatcher matcher;
  private final ExecutionSettings settings;
  private final AtomicLong sequence = new AtomicLong();
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  private final Map<ActionKey, Job> mergeable = new HashMap<>();
  private final TreeSet<Job> queue = new TreeSet<>(
      Comparator.<Job>comparingInt(job -> job.priority).thenComparingLong(job -> job.sequence));
  private final Map<String, ConnectedWorker> workers = new LinkedHashMap<>();
  private final java.util.function.Supplier<String> operationPrefix;

  /** @param operationPrefix starts every operation name, e.g. operations/10.0.0.7:8980/ (names the owner) */
  public Dispatcher(PlatformMatcher matcher, ExecutionSettings settings,
      java.util.function.Supplier<String> operationPrefix) {
    this.matcher = matcher;
    this.settings = settings;
    this.operationPrefix = operationPrefix;
  }

  /** A worker's stream and its executors. */
  private static final class ConnectedWorker {
    final String id;
    final WorkerStream stream;
    final Map<String, Platform> executors = new LinkedHashMap<>();
    final Set<String> free = new java.util.LinkedHashSet<>();
    final Map<String, Job> running = new HashMap<>();

    ConnectedWorker(Hello hello, WorkerStream stream) {
      this.id = hello.getWorkerId();
      this.stream = stream;
      hello.getExecutorsList().forEach(e -> executors.put(e.getExecutorId(), e.getProperties()));
    }

    void send(SchedulerMessage message) {
      stream.send(message);
    }
  }

  /**
   * Rejects platforms no executor could ever run: unknown names are INVALID_ARGUMENT, known
   * names without a match FAILED_PRECONDITION. With no worker connected yet, the job waits.
   */
  public synchronized void checkPlatform(Platform platform) throws InvalidArgumentException, UnsatisfiableException {
    List<Platform> offered = workers.values().stream().flatMap(w -> w.executors.values().stream()).toList();
    if (offered.isEmpty()) {
      return;
    }
    Set<String> unknown = matcher.unknownNames(platform, offered);
    if (!unknown.isEmpty()) {
      throw new InvalidArgumentException("platform properties " + unknown + " are not offered by any executor"
          + " of this cluster and are not configured as ignorable");
    }
    String unmatched = matcher.unsatisfiable(platform, offered);
    if (unmatched != null) {
      throw new UnsatisfiableException("no executor in this cluster can run this action: nothing offers " + unmatched);
    }
  }

  /** An action that no executor in the cluster can run. */
  public static final class UnsatisfiableException extends Exception {
    UnsatisfiableException(String message) {
      super(message);
    }
  }

  /** Queues an execution, or joins an identical one already in flight. */
  public synchronized Job submit(ActionKey key, Action action, Command command, Platform platform, int priority,
      List<Directory> inputDirectories) {
    if (!action.getDoNotCache()) {
      Job running = mergeable.get(key);
      if (running != null && !running.isDone()) {
        return running;
      }
    }
    Job job = new Job(operationPrefix.get() + UUID.randomUUID(), key, action, command, platform, priority,
        sequence.incrementAndGet(), Timestamps.now(), inputDirectories);
    jobs.put(job.name, job);
    if (!action.getDoNotCache()) {
      mergeable.put(key, job);
    }
    queue.add(job);
    dispatch();
    return job;
  }

  public synchronized Job find(String name) {
    return jobs.get(name);
  }

  public synchronized List<Job> list() {
    return new ArrayList<>(jobs.values());
  }

  public synchronized void workerConnected(Hello hello, WorkerStream stream) {
    ConnectedWorker previous = workers.get(hello.getWorkerId());
    if (previous != null) {
      lose(previous, "reconnected");
    }
    workers.put(hello.getWorkerId(), new ConnectedWorker(hello, stream));
  }

  public synchronized void executorFree(String workerId, String executorId) {
    ConnectedWorker worker = workers.get(workerId);
    if (worker != null && worker.executors.containsKey(executorId)) {
      worker.running.remove(executorId);
      worker.free.add(executorId);
      dispatch();
    }
  }

  /** The executor took work from another scheduler. */
  public synchronized void executorTaken(String workerId, String executorId) {
    ConnectedWorker worker = workers.get(workerId);
    if (worker != null) {
      worker.free.remove(executorId);
    }
  }

  /**
   * The executor had already taken another scheduler's work: the job goes back to its place in
   * the queue and the attempt does not count. The executor stays busy until it says it is free.
   */
  public synchronized void declined(String workerId, String operation, String executorId) {
    ConnectedWorker worker = workers.get(workerId);
    Job job = jobs.get(operation);
    // Matched on the job's own assignment, not on worker.running: a "free" the worker sent before
    // it saw the assignment can clear that entry, and the declined job must not be lost with it.
    if (worker == null || job == null || job.isDone() || !workerId.equals(job.worker)
        || !executorId.equals(job.executor)) {
      return;
    }
    worker.running.remove(executorId, job);
    job.attempts--;
    requeue(job);
    dispatch();
  }

  public synchronized void started(String workerId, String operation) {
    Job job = jobs.get(operation);
    if (job != null) {
      job.moveTo(ExecutionStage.Value.EXECUTING);
    }
  }

  /** A worker reported a result; returns the job when it completed it (not after a cancel). */
  public synchronized Job finished(String workerId, ActionFinished finished) {
    ConnectedWorker worker = workers.get(workerId);
    if (worker != null) {
      worker.running.remove(finished.getExecutorId());
    }
    Job job = jobs.get(finished.getOperation());
    if (job == null) {
      return null;
    }
    if (finished.getResponse().getStatus().getCode() == Code.UNAVAILABLE_VALUE && !job.isDone()
        && job.attempts < settings.maxAttempts()) {
      // The worker could not reach a peer or the storage (one died mid-action): run it again.
      log.info("{} failed on {} for want of storage ({}); queued again", job.name, workerId,
          finished.getResponse().getStatus().getMessage());
      requeue(job);
      dispatch();
      return null;
    }
    mergeable.remove(job.key, job);
    return job.complete(finished.getResponse()) ? job : null;
  }

  /** Cancels a job: dropped from the queue, or its process tree killed by the worker. */
  public synchronized boolean cancel(String name) {
    Job job = jobs.get(name);
    if (job == null || job.isDone()) {
      return false;
    }
    queue.remove(job);
    mergeable.remove(job.key, job);
    ConnectedWorker worker = job.worker == null ? null : workers.get(job.worker);
    if (worker != null && worker.running.get(job.executor) == job) {
      worker.send(SchedulerMessage.newBuilder().setCancel(CancelAction.newBuilder().setOperation(name)).build());
    }
    job.complete(failure(Code.CANCELLED, "the operation was cancelled"));
    return true;
  }

  /** The worker left the cluster (see WorkerRegistry); its running jobs go back to the queue. */
  public synchronized void workerGone(String workerId, String why) {
    ConnectedWorker worker = workers.get(workerId);
    if (worker != null) {
      lose(worker, why);
    }
  }

  /** Forgets jobs finished long ago; called every second. */
  public synchronized void sweep() {
    long now = System.nanoTime();
    Iterator<Job> all = jobs.values().iterator();
    while (all.hasNext()) {
      Job job = all.next();
      if (job.isDone() && now - job.completedNanos() > settings.finishedRetention().toNanos()) {
        all.remove();
      }
    }
  }

  private void lose(ConnectedWorker worker, String why) {
    workers.remove(worker.id);
    if (!worker.running.isEmpty()) {
      log.warn("worker {} lost ({}); {} running actions go back to the queue", worker.id, why, worker.running.size());
    }
    for (Job job : worker.running.values()) {
      if (job.isDone()) {
        continue;
      }
      if (job.attempts >= settings.maxAttempts()) {
        mergeable.remove(job.key, job);
        job.complete(failure(Code.UNAVAILABLE, "the action was lost with its worker " + job.attempts
            + " times (last: " + worker.id + ", " + why + "); giving up"));
      } else {
        requeue(job);
      }
    }
    dispatch();
  }

  /** Puts a job back in its place in the queue (its sequence number keeps its age). */
  private void requeue(Job job) {
    job.worker = null;
    job.executor = null;
    job.moveTo(ExecutionStage.Value.QUEUED);
    queue.add(job);
  }

  private static ExecuteResponse failure(Code code, String message) {
    return ExecuteResponse.newBuilder().setStatus(Status.newBuilder().setCode(code.getNumber()).setMessage(message)).build();
  }

  /** Hands queued jobs, best first, to free executors that can run them. */
  private void dispatch() {
    Iterator<Job> waiting = queue.iterator();
    while (waiting.hasNext()) {
      Job job = waiting.next();
      if (job.isDone()) {
        waiting.remove();
        continue;
      }
      if (assign(job)) {
        waiting.remove();
      }
    }
  }

  private boolean assign(Job job) {
    for (ConnectedWorker worker : workers.values()) {
      for (String executor : worker.free) {
        if (matcher.satisfies(job.platform, worker.executors.get(executor))) {
          worker.free.remove(executor);
          worker.running.put(executor, job);
          job.worker = worker.id;
          job.executor = executor;
          job.attempts++;
          worker.send(SchedulerMessage.newBuilder().setAssignment(Assignment.newBuilder()
              .setOperation(job.name)
              .setExecutorId(executor)
              .setInstanceName(job.key.instanceName())
              .setActionDigest(job.key.actionDigest())
              .setAction(job.action)
              .setCommand(job.command)
              .setQueued(job.queued)
              .setTimeout(job.action.hasTimeout() ? job.action.getTimeout() : settings.defaultTimeout())
              .addAllInputDirectories(job.inputDirectories))
              .build());
          return true;
        }
      }
    }
    return false;
  }

  /** Executors of one worker running an action for this scheduler. */
  public synchronized int busyExecutors(String workerId) {
    ConnectedWorker worker = workers.get(workerId);
    return worker == null ? 0 : worker.running.size();
  }

  /** Executors of all connected workers. */
  public synchronized int connectedExecutors() {
    return workers.values().stream().mapToInt(w -> w.executors.size()).sum();
  }

  /** Jobs waiting for an executor, for metrics. */
  public synchronized int queued() {
    return queue.size();
  }

  /** Settings the dispatcher and the Execution service share. */
  public record ExecutionSettings(Duration defaultTimeout, Duration maxTimeout, int maxAttempts,
      java.time.Duration finishedRetention) {}
}
