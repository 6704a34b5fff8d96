package build.rex.scheduler.ui;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.rex.scheduler.execution.Dispatcher;
import build.rex.scheduler.execution.ExecutionMetrics;
import build.rex.scheduler.execution.Job;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.Digests;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.ActionKey;
import build.rex.v1.ActionDetail;
import build.rex.v1.ActionList;
import build.rex.v1.ActionSummary;
import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Timestamps;
import java.io.IOException;
import java.io.InputStream;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** The executions a scheduler holds, as the UI shows them: a filtered list, and one action's whole story. */
final class ActionViews {
  /** Newest first, at most this many in a list. */
  static final int LIST_LIMIT = 500;
  /** stdout and stderr shown inline up to this size; the rest is a download. */
  static final int INLINE_OUTPUT_BYTES = 64 << 10;
  private static final int COMMAND_CHARS = 200;
  private final Dispatcher dispatcher;
  private final BlobStore cas;
  private final ActionCache actionCache;

  ActionViews(Dispatcher dispatcher, BlobStore cas, ActionCache actionCache) {
    this.dispatcher = dispatcher;
    this.cas = cas;
    this.actionCache = actionCache;
  }

  /** Running and recent executions; an empty filter matches all. */
  ActionList list(String instance, String outcome, String invocation) {
    ActionList.Builder list = ActionList.newBuilder();
    dispatcher.list().stream()
        .sorted(Comparator.comparing((Job job) -> Timestamps.toNanos(job.queuedAt())).reversed())
        .map(job -> summary(job, false))
        .filter(s -> instance.isEmpty() || s.getInstanceName().equals(instance))
        .filter(s -> outcome.isEmpty() || s.getOutcome().equals(outcome) || s.getState().equalsIgnoreCase(outcome))
        .filter(s -> invocation.isEmpty() || s.getToolInvocationId().equals(invocation))
        .limit(LIST_LIMIT)
        .forEach(list::addActions);
    return list.build();
  }

  static ActionSummary summary(Job job, boolean withHistory) {
    ActionSummary.Builder summary = ActionSummary.newBuilder()
        .setOperation(job.name())
        .setActionDigest(Digests.toString(job.key().actionDigest()))
        .setInstanceName(job.key().instanceName())
        .setState(job.state().name())
        .setCommand(shortened(job.command()))
        .setPlatform(job.lastPlatform().isEmpty() ? ExecutionMetrics.label(job.platform()) : job.lastPlatform())
        .setWorker(job.lastWorker())
        .setToolInvocationId(job.requester().getToolInvocationId())
        .setTargetId(job.requester().getTargetId())
        .setMnemonic(job.requester().getActionMnemonic())
        .setQueuedAt(job.queuedAt());
    ExecuteResponse response = job.response();
    if (response != null) {
      summary.setOutcome(ExecutionMetrics.Outcome.of(response).label());
      summary.setExitCode(response.getResult().getExitCode());
      summary.setError(response.getStatus().getMessage());
      ExecutedActionMetadata m = response.getResult().getExecutionMetadata();
      summary.setQueuedSeconds(seconds(m.getQueuedTimestamp(), m.getWorkerStartTimestamp()))
          .setFetchSeconds(seconds(m.getInputFetchStartTimestamp(), m.getInputFetchCompletedTimestamp()))
          .setExecuteSeconds(seconds(m.getExecutionStartTimestamp(), m.getExecutionCompletedTimestamp()))
          .setUploadSeconds(seconds(m.getOutputUploadStartTimestamp(), m.getOutputUploadCompletedTimestamp()));
    }
    if (withHistory) {
      summary.addAllHistory(job.history());
    }
    return summary.build();
  }

  private static double seconds(Timestamp from, Timestamp to) {
    if (Timestamps.toNanos(from) == 0 || Timestamps.toNanos(to) == 0) {
      return 0;
    }
    return Math.max(0, Timestamps.toNanos(to) - Timestamps.toNanos(from)) / 1e9;
  }

  static String shortened(Command command) {
    String line = String.join(" ", command.getArgumentsList());
    return line.length() <= COMMAND_CHARS ? line : line.substring(0, COMMAND_CHARS - 1) + "…";
  }

  /**
   * Everything known of one action: from this scheduler's executions of it, else from the CAS
   * and the Action Cache. Empty when neither the scheduler nor the CAS knows the action.
   */
  Optional<ActionDetail> detail(String instance, Digest actionDigest) throws IOException {
    ActionKey key = new ActionKey(instance, actionDigest);
    List<Job> executions = dispatcher.list().stream().filter(job -> job.key().equals(key))
        .sorted(Comparator.comparing((Job job) -> Timestamps.toNanos(job.queuedAt())).reversed()).toList();
    ActionDetail.Builder detail = ActionDetail.newBuilder().setActionDigest(actionDigest).setInstanceName(instance);
    executions.forEach(job -> detail.addExecutions(summary(job, true)));
    Action action;
    Command command;
    if (!executions.isEmpty()) {
      action = executions.get(0).action();
      command = executions.get(0).command();
    } else {
      Optional<ByteString> bytes = read(actionDigest);
      if (bytes.isEmpty()) {
        return Optional.empty();
      }
      action = Action.parseFrom(bytes.get());
      command = read(action.getCommandDigest()).map(ActionViews::command).orElse(Command.getDefaultInstance());
    }
    detail.setAction(action).setCommand(command);
    Optional<ActionResult> result = executions.stream().map(Job::response)
        .filter(r -> r != null && r.hasResult()).map(ExecuteResponse::getResult).findFirst();
    if (result.isPresent()) {
      detail.setResultSource("execution");
    } else {
      result = actionCache.get(key);
      result.ifPresent(r -> detail.setResultSource("action cache"));
    }
    if (result.isPresent()) {
      ActionResult r = result.get();
      detail.setResult(r);
      Output stdout = output(r.getStdoutRaw(), r.getStdoutDigest());
      Output stderr = output(r.getStderrRaw(), r.getStderrDigest());
      detail.setStdout(stdout.text).setStdoutTruncated(stdout.truncated)
          .setStderr(stderr.text).setStderrTruncated(stderr.truncated);
    }
    return Optional.of(detail.build());
  }

  private static Command command(ByteString bytes) {
    try {
      return Command.parseFrom(bytes);
    } catch (IOException e) {
      return Command.getDefaultInstance();
    }
  }

  private record Output(String text, boolean truncated) {}

  private Output output(ByteString raw, Digest digest) throws IOException {
    if (!raw.isEmpty() || digest.getSizeBytes() == 0) {
      return text(raw);
    }
    try (InputStream in = cas.openRead(digest, 0)) {
      return text(ByteString.readFrom(com.google.common.io.ByteStreams.limit(in, INLINE_OUTPUT_BYTES + 1)));
    } catch (BlobNotFoundException e) {
      return new Output("(no longer in the CAS)", false);
    }
  }

  private static Output text(ByteString bytes) {
    boolean truncated = bytes.size() > INLINE_OUTPUT_BYTES;
    return new Output((truncated ? bytes.substring(0, INLINE_OUTPUT_BYTES) : bytes).toStringUtf8(), truncated);
  }

  /** A small blob's bytes; empty when the CAS does not have it. */
  Optional<ByteString> read(Digest digest) throws IOException {
    try {
      return Optional.of(cas.get(digest));
    } catch (BlobNotFoundException e) {
      return Optional.empty();
    }
  }
}
