package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteOperationMetadata;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.bazel.remote.execution.v2.Platform;
import build.rex.storage.ac.ActionKey;
import com.google.longrunning.Operation;
import com.google.protobuf.Any;
import com.google.protobuf.Timestamp;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;

/**
 * One execution, seen by clients as a long-running Operation. Every client watching it (the
 * Execute call that created it, merged Execute calls, WaitExecution calls) gets each stage.
 */
public final class Job {
  final String name;
  final ActionKey key;
  final Action action;
  final Command command;
  final Platform platform;
  final int priority;
  final long sequence;
  final Timestamp queued;
  /** The input tree, root first, sent with the assignment; empty when it is large. */
  final List<Directory> inputDirectories;
  int attempts;
  String worker;
  String executor;
  private ExecutionStage.Value stage = ExecutionStage.Value.QUEUED;
  private ExecuteResponse response;
  private long completedNanos;
  private final List<StreamObserver<Operation>> watchers = new ArrayList<>();

  Job(String name, ActionKey key, Action action, Command command, Platform platform, int priority, long sequence,
      Timestamp queued, List<Directory> inputDirectories) {
    this.name = name;
    this.key = key;
    this.action = action;
    this.command = command;
    this.platform = platform;
    this.priority = priority;
    this.sequence = sequence;
    this.queued = queued;
    this.inputDirectories = inputDirectories;
  }

  public String name() {
    return name;
  }

  public synchronized boolean isDone() {
    return stage == ExecutionStage.Value.COMPLETED;
  }

  synchronized long completedNanos() {
    return completedNanos;
  }

  synchronized ExecutionStage.Value stage() {
    return stage;
  }

  /** Sends the current state now and every later one; completes the stream when the job does. */
  public synchronized void watch(StreamObserver<Operation> watcher) {
    if (send(watcher, toOperation()) && isDone()) {
      watcher.onCompleted();
    } else if (!isDone()) {
      watchers.add(watcher);
    }
  }

  synchronized void moveTo(ExecutionStage.Value next) {
    if (isDone() || stage == next) {
      return;
    }
    stage = next;
    Operation operation = toOperation();
    watchers.removeIf(watcher -> !send(watcher, operation));
  }

  /** Finishes the job once; later results (e.g. from a worker after a cancel) are ignored. */
  synchronized boolean complete(ExecuteResponse result) {
    if (isDone()) {
      return false;
    }
    stage = ExecutionStage.Value.COMPLETED;
    response = result;
    completedNanos = System.nanoTime();
    Operation operation = toOperation();
    for (StreamObserver<Operation> watcher : watchers) {
      if (send(watcher, operation)) {
        watcher.onCompleted();
      }
    }
    watchers.clear();
    return true;
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

  public synchronized Operation toOperation() {
    Operation.Builder operation = Operation.newBuilder()
        .setName(name)
        .setMetadata(Any.pack(ExecuteOperationMetadata.newBuilder()
            .setStage(stage)
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
