package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.Platform;
import build.bazel.remote.execution.v2.RequestMetadata;
import build.rex.scheduler.execution.WorkerRegistry.ConnectedWorker;
import build.rex.scheduler.execution.Job.Attempt;
import build.rex.scheduler.execution.Job.State;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.ac.ActionKey;
import build.rex.v1.ActionFinished;
import build.rex.v1.Assignment;
import build.rex.v1.CancelAction;
import build.rex.v1.Heartbeat;
import build.rex.v1.RunningAction;
import build.rex.v1.SchedulerMessage;
import com.google.protobuf.Duration;
import com.google.protobuf.util.Timestamps;
import com.google.rpc.Code;
import com.google.rpc.Status;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The queue, the executors, and every event in an operation's life. Each public method below
 * is one event; each leads a job to exactly one of: the queue (at once or after a backoff), an
 * executor, or completion with an ExecuteResponse that every watcher receives.
 *
 * <pre>
 * event                                  job state before      outcome
 * submit / adopt                         -                     QUEUED (or joins an identical job in flight)
 * an executor is free                    QUEUED                ASSIGNED to it (best job first)
 * worker declined the assignment         ASSIGNED              QUEUED, attempt not counted
 * worker started it                      ASSIGNED              RUNNING
 * worker finished it                     ASSIGNED, RUNNING     STORING_RESULT, then COMPLETED
 * worker could not reach its storage     ASSIGNED, RUNNING     RETRY_WAIT (backoff), then QUEUED
 * worker left or reconnected             ASSIGNED, RUNNING     QUEUED
 * heartbeat: worker does not have it     ASSIGNED, RUNNING     QUEUED
 * not started within assignmentTimeout   ASSIGNED              QUEUED
 * any of the last four, maxAttempts over ASSIGNED, RUNNING     COMPLETED with UNAVAILABLE (the client retries)
 * client cancelled                       any but COMPLETED     COMPLETED with CANCELLED, worker told to stop
 * the watchdog finds it orphaned         any but COMPLETED     QUEUED (a bug: logged and counted)
 * </pre>
 *
 * Reports from workers name the attempt they are about; a report about any other attempt than
 * the job's current one is stale and changes nothing. A client stream that breaks only loses
 * its watcher; the job goes on and a later WaitExecution finds it. Thread-safe: every change
 * happens under this object's lock; watchers are sent updates outside it.
 */
public final class Dispatcher {
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

  /** Why an attempt ended without a result, which decides what happens next. */
  public enum Ending {
    DECLINED(false, false), WORKER_LOST(true, false), ASSIGNMENT_LOST(true, false), STORAGE_UNREACHABLE(true, true);

    final boolean counts;
    final boolean backoff;

    Ending(boolean counts, boolean backoff) {
      this.counts = counts;
      this.backoff = backoff;
    }
  }

  /** Told of what happens to actions, for metrics; called under the Dispatcher's lock, so it must be quick. */
  public interface Observer {
    Observer NONE = new Observer() {};

    /** An executor (of this platform) took the job, which had waited this long in the queue. */
    default void assigned(Job job, String worker, String executor, Platform platform, long queuedNanos) {}

    /** An action ran on an executor of this platform, with the worker's timings. */
    default void ran(Platform executor, build.bazel.remote.execution.v2.ExecutedActionMetadata metadata) {}

    /** An execution ended with this response (a cached one included). */
    default void completed(ExecuteResponse response) {}

    /** Both, in turn. */
    static Observer both(Observer first, Observer second) {
      return new Observer() {
        @Override
        public void assigned(Job job, String worker, String executor, Platform platform, long queuedNanos) {
          first.assigned(job, worker, executor, platform, queuedNanos);
          second.assigned(job, worker, executor, platform, queuedNanos);
        }

        @Override
        public void ran(Platform executor, build.bazel.remote.execution.v2.ExecutedActionMetadata metadata) {
          first.ran(executor, metadata);
          second.ran(executor, metadata);
        }

        @Override
        public void completed(ExecuteResponse response) {
          first.completed(response);
          second.completed(response);
        }
      };
    }
  }

  private final PlatformMatcher matcher;
  private final Observer observer;
  private final ExecutionSettings settings;
  private final Supplier<String> owner;
  private final ScheduledExecutorService timer;
  private final Executor publisher;
  private final AtomicLong sequence = new AtomicLong();
  private long attempts;
  private final JobTable jobs = new JobTable();
  /** Bytes of input trees unfinished jobs hold to send with their assignments; bounded by the settings. */
  private long heldTreeBytes;
  private final PlatformQueues queue = new PlatformQueues();
  private final WorkerRegistry workers;
  private final Map<Ending, AtomicLong> endings = new EnumMap<>(Ending.class);

  /**
   * @param owner this scheduler's address in operation names
   * @param timer runs retries after their backoff
   * @param publisher sends updates to watchers (inlining outputs may read the CAS)
   */
  public Dispatcher(PlatformMatcher matcher, ExecutionSettings settings, Supplier<String> owner,
      ScheduledExecutorService timer, Executor publisher) {
    this(matcher, settings, owner, timer, publisher, WorkerRegistry.Settings.of(1, java.time.Duration.ofSeconds(30)),
        (members, replicas) -> { }, Observer.NONE);
  }

  /**
   * @param membership how the connected workers are kept ({@link WorkerRegistry})
   * @param placement told of every change of membership
   * @param observer told of assignments, runs and completions
   */
  public Dispatcher(PlatformMatcher matcher, ExecutionSettings settings, Supplier<String> owner,
      ScheduledExecutorService timer, Executor publisher, WorkerRegistry.Settings membership,
      WorkerRegistry.Placement placement, Observer observer) {
    this.observer = observer;
    this.workers = new WorkerRegistry(this, membership, placement, this::lose);
    this.matcher = matcher;
    this.settings = settings;
    this.owner = owner;
    this.timer = timer;
    this.publisher = publisher;
    for (Ending ending : Ending.values()) {
      endings.put(ending, new AtomicLong());
    }
  }

  /** The connected workers: the cluster's membership and the executors jobs run on. */
  public WorkerRegistry workers() {
    return workers;
  }

  /**
   * Rejects platforms no executor could ever run: unknown names are INVALID_ARGUMENT, known
   * names without a match FAILED_PRECONDITION. With no worker connected yet, the job waits.
   */
  public synchronized void checkPlatform(Platform platform) throws InvalidArgumentException, UnsatisfiableException {
    List<Platform> offered = workers.all().stream().flatMap(w -> w.executors.values().stream()).toList();
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

  // ---- events from clients ----

  /** Queues an execution, or joins an identical one already in flight. */
  public synchronized Job submit(ActionKey key, Action action, Command command, Platform platform, int priority,
      Map<Digest, Directory> inputDirectories, Job.Origin origin) {
    Job running = action.getDoNotCache() ? null : jobs.inFlight(key);
    if (running != null) {
      return running;
    }
    Job job = new Job(OperationName.create(key, owner.get()).toString(), key, action, command, platform, priority,
        sequence.incrementAndGet(), Timestamps.now(), holdable(inputDirectories), origin);
    heldTreeBytes += job.treeBytes();
    jobs.add(job, !action.getDoNotCache());
    queue.add(job);
    dispatch();
    return job;
  }

  /**
   * Carries on an operation whose owner is gone (it died, or this is it, restarted): the action
   * is queued again here under a new name of this scheduler's, and the old name leads to it.
   */
  public synchronized Job adopt(OperationName name, Action action, Command command, Platform platform,
      Map<Digest, Directory> inputDirectories, Job.Origin origin) {
    Job known = find(name.toString());
    if (known != null) {
      return known;
    }
    Job job = submit(name.key(), action, command, platform, 0, inputDirectories, origin);
    jobs.adopt(name.toString(), job);
    log.info("took over operation {} (its scheduler is gone) as {}", name, job.name);
    return job;
  }

  public synchronized Job find(String name) {
    return jobs.find(name);
  }

  public synchronized List<Job> list() {
    return jobs.snapshot();
  }

  /** Cancels a job: dropped from the queue, or its process tree killed by the worker. */
  public synchronized boolean cancel(String name) {
    Job job = find(name);
    if (job == null || job.isDone()) {
      return false;
    }
    Attempt attempt = job.attempt;
    ConnectedWorker worker = attempt == null ? null : workers.get(attempt.worker());
    if (worker != null) {
      worker.stream.send(cancelMessage(job.name, attempt.id()));
    }
    detach(job);
    complete(job, failure(Code.CANCELLED, "the operation was cancelled"), "cancelled by a client");
    return true;
  }

  // ---- events from workers ----

  /**
   * The executor is idle. Ignored while it has an attempt of ours: the worker sent this before
   * it saw that assignment, which it will take or decline.
   */
  public synchronized void executorFree(String workerId, String executorId) {
    ConnectedWorker worker = workers.get(workerId);
    if (worker != null && worker.executors.containsKey(executorId) && !worker.running.containsKey(executorId)) {
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

  /** The executor had already taken other work (or the worker is draining): the job goes back, not counted. */
  public synchronized void declined(String workerId, String operation, long attempt) {
    Job job = current(workerId, operation, attempt);
    if (job != null) {
      endAttempt(job, Ending.DECLINED, "declined by " + workerId);
      dispatch();
    }
  }

  public synchronized void started(String workerId, String operation, long attempt) {
    Job job = current(workerId, operation, attempt);
    if (job != null && job.state() == State.ASSIGNED) {
      move(job, State.RUNNING, "started on " + workerId);
    }
  }

  /**
   * A worker reported the end of an attempt. Returns the job when its result is to be stored
   * and then passed to {@link #resultStored}; null when the report was stale or the job went
   * back to the queue (the worker could not reach its storage: a peer died under it).
   */
  public synchronized Job finished(String workerId, ActionFinished finished) {
    Job job = current(workerId, finished.getOperation(), finished.getAttempt());
    if (job == null) {
      return null;
    }
    ExecuteResponse response = finished.getResponse();
    if (response.getStatus().getCode() == Code.UNAVAILABLE_VALUE) {
      endAttempt(job, Ending.STORAGE_UNREACHABLE, workerId + ": " + response.getStatus().getMessage());
      return null;
    }
    ConnectedWorker worker = workers.get(workerId);
    if (worker != null) {
      observer.ran(worker.executors.get(job.attempt.executor()), response.getResult().getExecutionMetadata());
    }
    detach(job);
    job.pendingResult = response;
    move(job, State.STORING_RESULT, "finished on " + workerId);
    return job;
  }

  /** The result of a job {@link #finished} returned is stored (or could not be): the job completes. */
  public synchronized void resultStored(Job job) {
    if (job.state() == State.STORING_RESULT) {
      complete(job, job.pendingResult, "result delivered");
    }
  }

  /**
   * A heartbeat carries the worker's state: attempts it was sent but does not run are lost
   * (requeued), attempts it runs that we no longer want are cancelled, and its free executors
   * are the ones it names.
   */
  public synchronized void heartbeat(String workerId, Heartbeat heartbeat) {
    ConnectedWorker worker = workers.get(workerId);
    if (worker != null && heartbeat.hasStorage()) {
      worker.storage = heartbeat.getStorage();
    }
    if (worker == null || !heartbeat.getCarriesState()) {
      return;
    }
    Map<Long, RunningAction> reported = new HashMap<>();
    heartbeat.getRunningList().forEach(r -> reported.put(r.getAttempt(), r));
    for (Job job : List.copyOf(worker.running.values())) {
      long attempt = job.attempt.id();
      if (attempt <= heartbeat.getLastAttempt() && !reported.containsKey(attempt)) {
        endAttempt(job, Ending.ASSIGNMENT_LOST, workerId + " does not run attempt " + attempt);
      }
    }
    for (RunningAction running : reported.values()) {
      Job job = worker.running.get(running.getExecutorId());
      if (job == null || job.attempt.id() != running.getAttempt()) {
        worker.stream.send(cancelMessage(running.getOperation(), running.getAttempt()));
      }
    }
    worker.free.clear();
    heartbeat.getFreeExecutorsList().stream()
        .filter(e -> worker.executors.containsKey(e) && !worker.running.containsKey(e))
        .forEach(worker.free::add);
    dispatch();
  }

  // ---- housekeeping ----

  /** Forgets jobs finished long ago and requeues assignments never started; called every second. */
  public synchronized void sweep() {
    jobs.forgetCompleted(settings.finishedRetention());
    for (Job job : jobs.snapshot()) {
      if (job.state() == State.ASSIGNED && job.nanosInState() > settings.assignmentTimeout().toNanos()) {
        endAttempt(job, Ending.ASSIGNMENT_LOST, "not started within " + settings.assignmentTimeout().toSeconds() + " s");
      }
    }
    dispatch();
  }

  /**
   * Checks every unfinished job for a place where it can make progress: the queue, a retry
   * timer, a connected worker's executor, or a result being stored. A job with none of these
   * would wait for ever; it is requeued (or, with its result in hand, completed) and described
   * in the returned list. This finds bugs: the list should always be empty.
   */
  public synchronized List<String> rescueOrphans() {
    List<String> rescued = new ArrayList<>();
    long retryGrace = settings.retryBackoffMax().toNanos() + TimeUnit.SECONDS.toNanos(10);
    for (Job job : jobs.all()) {
      String problem = switch (job.state()) {
        case QUEUED -> queue.contains(job) ? null : "queued but not in the queue";
        case RETRY_WAIT -> job.nanosInState() < retryGrace ? null : "its retry never came";
        case ASSIGNED, RUNNING -> attachedProblem(job);
        case STORING_RESULT -> job.nanosInState() < TimeUnit.MINUTES.toNanos(2) ? null : "its result was never stored";
        case COMPLETED -> null;
      };
      if (problem == null) {
        continue;
      }
      rescued.add(job.name + " (" + job.state() + ", " + problem + "; history: " + String.join(" | ", job.history()) + ")");
      if (job.state() == State.STORING_RESULT) {
        complete(job, job.pendingResult, "rescued by the watchdog: " + problem);
      } else {
        detach(job);
        requeue(job, "rescued by the watchdog: " + problem);
      }
    }
    if (!rescued.isEmpty()) {
      dispatch();
    }
    return rescued;
  }

  private String attachedProblem(Job job) {
    Attempt attempt = job.attempt;
    if (attempt == null) {
      return "on no executor";
    }
    ConnectedWorker worker = workers.get(attempt.worker());
    if (worker == null) {
      return "its worker " + attempt.worker() + " is gone";
    }
    return worker.running.get(attempt.executor()) == job ? null : "not on its executor " + attempt.executor();
  }

  /** Sends every unfinished job's state to its watchers again, so idle streams stay open. */
  public synchronized void republish() {
    for (Job job : jobs.all()) {
      if (!job.isDone()) {
        publisher.execute(job::publish);
      }
    }
  }

  // ---- what the events lead to ----

  /** The job whose current attempt a worker's report is about; null for a stale report. */
  private Job current(String workerId, String operation, long attempt) {
    Job job = jobs.own(operation);
    if (job == null || job.attempt == null || job.attempt.id() != attempt || !job.attempt.worker().equals(workerId)) {
      log.debug("stale report from {} about {} attempt {}", workerId, operation, attempt);
      return null;
    }
    return job;
  }

  /** The one place that decides what follows an attempt that ended without a result. */
  private void endAttempt(Job job, Ending ending, String why) {
    detach(job);
    endings.get(ending).incrementAndGet();
    if (ending.counts) {
      job.failedAttempts++;
    }
    if (job.failedAttempts >= settings.maxAttempts()) {
      complete(job, failure(Code.UNAVAILABLE, "the action could not be run: " + job.failedAttempts
          + " attempts ended without a result (last: " + why + "); retry later"), "gave up: " + why);
    } else if (ending.backoff) {
      long token = ++job.retryToken;
      long delay = Math.min(settings.retryBackoff().toNanos() << Math.min(job.failedAttempts - 1, 20),
          settings.retryBackoffMax().toNanos());
      move(job, State.RETRY_WAIT, why + "; retry in " + TimeUnit.NANOSECONDS.toMillis(delay) + " ms");
      timer.schedule(() -> retryDue(job, token), delay, TimeUnit.NANOSECONDS);
    } else {
      if (ending != Ending.DECLINED) {
        log.info("{} goes back to the queue: {}", job.name, why);
      }
      requeue(job, why);
    }
  }

  private synchronized void retryDue(Job job, long token) {
    if (job.state() == State.RETRY_WAIT && job.retryToken == token) {
      requeue(job, "backoff over");
      dispatch();
    }
  }

  /** Takes a job off its executor, if it is on one. */
  private void detach(Job job) {
    Attempt attempt = job.attempt;
    if (attempt == null) {
      return;
    }
    ConnectedWorker worker = workers.get(attempt.worker());
    if (worker != null) {
      worker.running.remove(attempt.executor(), job);
    }
    job.attempt = null;
  }

  /** Puts a job back in its place in the queue (its sequence number keeps its age). */
  private void requeue(Job job, String why) {
    move(job, State.QUEUED, why);
    queue.add(job);
  }

  /**
   * The tree a new job may hold: all of it while the trees held stay within the bound, else none
   * (its worker reads the tree from the CAS), so a long queue does not fill the scheduler's heap.
   */
  private Map<Digest, Directory> holdable(Map<Digest, Directory> tree) {
    long bytes = Job.bytesOf(tree);
    return heldTreeBytes + bytes <= settings.heldTreesMaxBytes() ? tree : Map.of();
  }

  private void complete(Job job, ExecuteResponse response, String why) {
    queue.remove(job);
    jobs.completed(job);
    heldTreeBytes -= job.dropTree();
    if (job.complete(response, why)) {
      observer.completed(response);
      publisher.execute(job::publish);
    }
  }

  private void move(Job job, State next, String why) {
    var before = job.state().stage();
    job.moveTo(next, why);
    if (next.stage() != before) {
      publisher.execute(job::publish);
    }
  }

  /** The worker left (the registry has forgotten it): its running jobs go back to the queue. */
  private void lose(ConnectedWorker worker, String why) {
    if (!worker.running.isEmpty()) {
      log.warn("worker {} lost ({}); {} running actions go back to the queue", worker.id, why, worker.running.size());
    }
    for (Job job : List.copyOf(worker.running.values())) {
      endAttempt(job, Ending.WORKER_LOST, "worker " + worker.id + " lost (" + why + ")");
    }
    dispatch();
  }

  private static ExecuteResponse failure(Code code, String message) {
    return ExecuteResponse.newBuilder().setStatus(Status.newBuilder().setCode(code.getNumber()).setMessage(message)).build();
  }

  private static SchedulerMessage cancelMessage(String operation, long attempt) {
    return SchedulerMessage.newBuilder().setCancel(CancelAction.newBuilder().setOperation(operation).setAttempt(attempt))
        .build();
  }

  /** Hands queued jobs, best first, to free executors that can run them. */
  private void dispatch() {
    queue.dispatch(this::assign);
  }

  private boolean assign(Job job) {
    for (ConnectedWorker worker : workers.all()) {
      for (String executor : worker.free) {
        if (matcher.satisfies(job.platform, worker.executors.get(executor))) {
          observer.assigned(job, worker.id, executor, worker.executors.get(executor), job.nanosInState());
          job.lastWorker = worker.id;
          job.lastPlatform = ExecutionMetrics.label(worker.executors.get(executor));
          worker.free.remove(executor);
          worker.running.put(executor, job);
          job.attempt = new Attempt(++attempts, worker.id, executor);
          move(job, State.ASSIGNED, "attempt " + job.attempt.id() + " on " + worker.id + "/" + executor);
          worker.stream.send(SchedulerMessage.newBuilder().setAssignment(Assignment.newBuilder()
              .setOperation(job.name)
              .setAttempt(job.attempt.id())
              .setExecutorId(executor)
              .setInstanceName(job.key.instanceName())
              .setActionDigest(job.key.actionDigest())
              .setAction(job.action)
              .setCommand(job.command)
              .setQueued(job.queued)
              .setTimeout(job.action.hasTimeout() ? job.action.getTimeout() : settings.defaultTimeout())
              .addAllInputDirectoryDigests(job.inputDirectories.keySet())
              .addAllInputDirectories(job.inputDirectories.values())
              .setInputTreeChecked(true) // every job is checked before it is submitted (ExecutionService)
              .setTraceparent(job.traceparent)
              .setToolInvocationId(job.requester.getToolInvocationId()))
              .build());
          return true;
        }
      }
    }
    return false;
  }

  // ---- figures ----

  /** Jobs waiting for an executor, for metrics. */
  public synchronized int queued() {
    return queue.size();
  }

  /** Every job with its state and history, for the admin port. */
  public synchronized build.rex.v1.OperationReport report() {
    build.rex.v1.OperationReport.Builder report = build.rex.v1.OperationReport.newBuilder();
    for (Job job : jobs.all()) {
      report.addOperations(build.rex.v1.OperationInfo.newBuilder().setName(job.name).setState(job.state().name())
          .setFailedAttempts(job.failedAttempts).setWatchers(job.watcherCount()).addAllHistory(job.history()));
    }
    return report.build();
  }

  Observer observer() {
    return observer;
  }

  /** Attempts that ended without a result, for one reason. */
  public long endings(Ending reason) {
    return endings.get(reason).get();
  }

  /** Settings the dispatcher and the Execution service share. */
  public record ExecutionSettings(Duration defaultTimeout, Duration maxTimeout, int maxAttempts,
      java.time.Duration finishedRetention, java.time.Duration assignmentTimeout, java.time.Duration retryBackoff,
      java.time.Duration retryBackoffMax, long heldTreesMaxBytes) {}
}
