package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteOperationMetadata;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.bazel.remote.execution.v2.Platform;
import build.bazel.remote.execution.v2.RequestMetadata;
import build.rex.storage.ac.ActionKey;
import com.google.longrunning.Operation;
import com.google.protobuf.Any;
import com.google.protobuf.Timestamp;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One execution, seen by clients as a long-running Operation, and its place in its life
 * ({@link State}). Only the {@link Dispatcher} changes the state, under its lock, through
 * {@link #moveTo}, which refuses any change the state table does not allow; every change is
 * kept in a short history for people. Every client watching the job (the Execute call that
 * created it, merged Execute calls, WaitExecution calls) is sent each state by {@link #publish},
 * which the dispatcher runs outside its lock because sending may be slow.
 */
public final class Job {
  /**
   * Where a job is. A job waits in the queue, is offered to one executor, runs there, has its
   * result stored and completes; an attempt that ends without a result (the worker left, lost
   * or declined the assignment, or could not reach its storage) goes back to QUEUED, through
   * RETRY_WAIT when it should wait first. Nothing leaves COMPLETED.
   */
  public enum State {
    QUEUED, RETRY_WAIT, ASSIGNED, RUNNING, STORING_RESULT, COMPLETED;

    boolean mayBecome(State next) {
      return switch (this) {
        case QUEUED -> next == ASSIGNED || next == COMPLETED;
        case RETRY_WAIT -> next == QUEUED || next == COMPLETED;
        case ASSIGNED -> next != ASSIGNED;
        case RUNNING -> next != ASSIGNED && next != RUNNING;
        case STORING_RESULT -> next == COMPLETED;
        case COMPLETED -> false;
      };
    }

    ExecutionStage.Value stage() {
      return switch (this) {
        case QUEUED, RETRY_WAIT, ASSIGNED -> ExecutionStage.Value.QUEUED;
        case RUNNING, STORING_RESULT -> ExecutionStage.Value.EXECUTING;
        case COMPLETED -> ExecutionStage.Value.COMPLETED;
      };
    }
  }

  /** One try on one executor; {@code id} is in every message about it, so stale reports are known. */
  record Attempt(long id, String worker, String executor) {}

  private static final int HISTORY = 24;
  final String name;
  final ActionKey key;
  final Action action;
  final Command command;
  final Platform platform;
  final int priority;
  final long sequence;
  final Timestamp queued;
  /** Who asked first (Bazel's RequestMetadata: tool, invocation, target); empty when not sent. */
  final RequestMetadata requester;
  /** The W3C traceparent of the first Execute call for it; empty when it is not traced. */
  final String traceparent;

  /** Where an execution comes from: the first client's RequestMetadata and trace. */
  public record Origin(RequestMetadata requester, String traceparent) {
    public static final Origin NONE = new Origin(RequestMetadata.getDefaultInstance(), "");
  }
  /** The worker and executor platform of the latest attempt, kept after it ends, for people. */
  volatile String lastWorker = "";
  volatile String lastPlatform = "";
  /**
   * The input tree's Directory messages by digest, root first, when small enough to travel with
   * the assignment (and the scheduler had room to hold it); dropped when the job completes.
   */
  volatile Map<Digest, Directory> inputDirectories;
  /** Attempts that ended without a result and count towards the limit (declines do not). */
  int failedAttempts;
  /** The attempt in progress while ASSIGNED, RUNNING or STORING_RESULT; null otherwise. */
  Attempt attempt;
  /** Retries scheduled for this job, so that a stale retry timer does nothing. */
  long retryToken;
  /** The worker's response while STORING_RESULT. */
  ExecuteResponse pendingResult;
  private State state = State.QUEUED;
  private long stateSinceNanos = System.nanoTime();
  private ExecuteResponse response;
  private final ArrayDeque<String> history = new ArrayDeque<>();
  private final List<StreamObserver<Operation>> watchers = new ArrayList<>();

  Job(String name, ActionKey key, Action action, Command command, Platform platform, int priority, long sequence,
      Timestamp queued, Map<Digest, Directory> inputDirectories, Origin origin) {
    this.requester = origin.requester();
    this.traceparent = origin.traceparent();
    this.name = name;
    this.key = key;
    this.action = action;
    this.command = command;
    this.platform = platform;
    this.priority = priority;
    this.sequence = sequence;
    this.queued = queued;
    this.inputDirectories = inputDirectories;
    record("QUEUED (submitted)");
  }

  /** Serialized bytes of a tree's Directory messages. */
  static long bytesOf(Map<Digest, Directory> tree) {
    long bytes = 0;
    for (Digest digest : tree.keySet()) {
      bytes += digest.getSizeBytes();
    }
    return bytes;
  }

  long treeBytes() {
    return bytesOf(inputDirectories);
  }

  /** Lets go of the held tree (the job is done with it); returns its bytes. */
  long dropTree() {
    long bytes = treeBytes();
    inputDirectories = Map.of();
    return bytes;
  }

  public String name() {
    return name;
  }

  public ActionKey key() {
    return key;
  }

  public Action action() {
    return action;
  }

  public Command command() {
    return command;
  }

  public Platform platform() {
    return platform;
  }

  public int priority() {
    return priority;
  }

  public Timestamp queuedAt() {
    return queued;
  }

  public RequestMetadata requester() {
    return requester;
  }

  public String traceparent() {
    return traceparent;
  }

  public String lastWorker() {
    return lastWorker;
  }

  /** The platform of the executor of the latest attempt, as a label ("" before any). */
  public String lastPlatform() {
    return lastPlatform;
  }

  /** The response it completed with; null while it runs. */
  public synchronized ExecuteResponse response() {
    return response;
  }

  public synchronized State state() {
    return state;
  }

  public synchronized boolean isDone() {
    return state == State.COMPLETED;
  }

  /** How long the job has been in its current state (for a completed one: since it completed). */
  public synchronized long nanosInState() {
    return System.nanoTime() - stateSinceNanos;
  }

  /**
   * The one way a job changes state. A change the table does not allow is a bug in the
   * dispatcher: it throws rather than leave the job somewhere nobody looks.
   */
  synchronized void moveTo(State next, String why) {
    if (!state.mayBecome(next)) {
      throw new IllegalStateException(name + ": " + state + " -> " + next + " (" + why + ") is not a legal transition;"
          + " history: " + history());
    }
    state = next;
    stateSinceNanos = System.nanoTime();
    record(next + " (" + why + ")");
  }

  /** Completes the job with its response; false (and nothing changes) when it already completed. */
  synchronized boolean complete(ExecuteResponse result, String why) {
    if (state == State.COMPLETED) {
      return false;
    }
    moveTo(State.COMPLETED, why);
    response = result;
    return true;
  }

  private void record(String event) {
    if (history.size() == HISTORY) {
      history.removeFirst();
    }
    history.addLast(Instant.now() + " " + event);
  }

  /** What happened to the job, oldest first, for logs and the admin API. */
  public synchronized List<String> history() {
    return List.copyOf(history);
  }

  /** Adds a watcher and sends it the current state at once; completes it when the job is done. */
  public synchronized void watch(StreamObserver<Operation> watcher) {
    if (send(watcher, toOperation()) && !isDone()) {
      watchers.add(watcher);
    } else if (isDone()) {
      complete(watcher);
    }
  }

  /**
   * Sends the current state to every watcher (the REAPI lets a server send the same state
   * again, which keeps idle streams alive); once the job is done, completes and forgets them.
   * Watchers whose clients went away are dropped.
   */
  public synchronized void publish() {
    Operation operation = toOperation();
    watchers.removeIf(watcher -> !send(watcher, operation));
    if (isDone()) {
      watchers.forEach(Job::complete);
      watchers.clear();
    }
  }

  synchronized int watcherCount() {
    return watchers.size();
  }

  /** False when the watcher is gone (its client cancelled). */
  private static boolean send(StreamObserver<Operation> watcher, Operation operation) {
    try {
      watcher.onNext(operation);
      return true;
    } catch (RuntimeException clientGone) {
      return false;
    }
  }

  private static void complete(StreamObserver<Operation> watcher) {
    try {
      watcher.onCompleted();
    } catch (RuntimeException clientGone) {
      // nothing to complete
    }
  }

  public synchronized Operation toOperation() {
    Operation.Builder operation = Operation.newBuilder()
        .setName(name)
        .setMetadata(Any.pack(ExecuteOperationMetadata.newBuilder()
            .setStage(state.stage())
            .setActionDigest(key.actionDigest())
            .setDigestFunction(DigestFunction.Value.SHA256)
            .build()))
        .setDone(isDone());
    if (response != null) {
      operation.setResponse(Any.pack(response));
    }
    return operation.build();
  }
}
