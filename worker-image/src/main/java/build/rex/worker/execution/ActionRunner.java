package build.rex.worker.execution;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.StorageFullException;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.service.Statuses;
import build.bazel.remote.execution.v2.Platform;
import build.rex.v1.Assignment;
import build.rex.worker.sandbox.Sandbox;
import com.google.protobuf.util.Durations;
import build.rex.server.Tracing;
import build.rex.storage.Digests;
import com.google.protobuf.util.Timestamps;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import com.google.rpc.Code;
import com.google.rpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one assignment as a chain of steps: {@link InputStep} (the input tree, its files fetched
 * and pinned, the exec root), {@link CommandStep} (the command in the sandbox) and
 * {@link OutputStep} (outputs, stdout and stderr uploaded), timing each into the
 * ExecutedActionMetadata. Whatever happens, it answers with an ExecuteResponse; errors go into
 * its status, never lost.
 */
public final class ActionRunner {
  private static final Logger log = LoggerFactory.getLogger(ActionRunner.class);
  private final String workerId;
  private final Path execRoots;
  private final InputStep inputs;
  private final CommandStep command;
  private final OutputStep outputs;
  private final Tracer tracer;

  public ActionRunner(String workerId, BlobStore cluster, DiskBlobStore local, Path execRoots, Sandbox sandbox) {
    this(workerId, cluster, local, execRoots, sandbox, Tracing.off().tracer());
  }

  /** @param tracer spans of each run, joined to the client's trace by the assignment's traceparent */
  public ActionRunner(String workerId, BlobStore cluster, DiskBlobStore local, Path execRoots, Sandbox sandbox,
      Tracer tracer) {
    this.tracer = tracer;
    this.workerId = workerId;
    this.execRoots = execRoots;
    this.inputs = new InputStep(cluster, local, execRoots);
    this.command = new CommandStep(sandbox);
    this.outputs = new OutputStep(cluster, local);
  }

  /** Runs the assignment on an executor that offers {@code executor} (its cpu and memory become limits). */
  ExecuteResponse run(Assignment assignment, Platform executor, CommandRunner runner) {
    Span span = tracer.spanBuilder("run action").setParent(Tracing.parent(assignment.getTraceparent()))
        .setAttribute(Tracing.ACTION_DIGEST, Digests.toString(assignment.getActionDigest()))
        .setAttribute(Tracing.TOOL_INVOCATION_ID, assignment.getToolInvocationId())
        .setAttribute("rex.worker", workerId).setAttribute("rex.executor", assignment.getExecutorId()).startSpan();
    try (Scope scope = span.makeCurrent()) {
      ExecuteResponse response = runSteps(assignment, executor, runner);
      if (response.getStatus().getCode() != 0) {
        span.setStatus(StatusCode.ERROR, response.getStatus().getMessage());
      }
      span.setAttribute("rex.exit_code", response.getResult().getExitCode());
      return response;
    } finally {
      span.end();
    }
  }

  /** One step of a run, as a span of its own. */
  private interface Step<T> {
    T run() throws IOException, InterruptedException, InvalidArgumentException;
  }

  private <T> T step(String name, Step<T> step) throws IOException, InterruptedException, InvalidArgumentException {
    Span span = tracer.spanBuilder(name).startSpan();
    try (Scope scope = span.makeCurrent()) {
      return step.run();
    } catch (IOException | InterruptedException | InvalidArgumentException | RuntimeException e) {
      span.setStatus(StatusCode.ERROR, e.toString());
      throw e;
    } finally {
      span.end();
    }
  }

  private ExecuteResponse runSteps(Assignment assignment, Platform executor, CommandRunner runner) {
    ExecutedActionMetadata.Builder metadata = ExecutedActionMetadata.newBuilder()
        .setWorker(workerId)
        .setQueuedTimestamp(assignment.getQueued())
        .setWorkerStartTimestamp(Timestamps.now());
    // Unique per attempt: an earlier attempt of the same operation (one the scheduler gave up on
    // while this worker was stalled, say) may still be cleaning up its exec root here.
    String id = assignment.getOperation().substring(assignment.getOperation().lastIndexOf('/') + 1) + "-"
        + assignment.getAttempt();
    Path stdout = execRoots.resolve(id + ".stdout");
    Path stderr = execRoots.resolve(id + ".stderr");
    try {
      metadata.setInputFetchStartTimestamp(Timestamps.now());
      try (InputStep.Staged staged = step("fetch inputs", () -> inputs.stage(assignment, id))) {
        metadata.setInputFetchCompletedTimestamp(Timestamps.now());
        String runId = id + "-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        CommandStep.Ran ran = step("execute",
            () -> command.run(assignment, executor, runner, staged, runId, stdout, stderr, metadata));
        metadata.setOutputUploadStartTimestamp(Timestamps.now());
        ActionResult.Builder result = step("upload outputs",
            () -> outputs.collect(assignment, staged, ran.outcome(), stdout, stderr));
        metadata.setOutputUploadCompletedTimestamp(Timestamps.now());
        return response(assignment, ran, result.setExecutionMetadata(metadata.setWorkerCompletedTimestamp(Timestamps.now())));
      }
    } catch (BlobNotFoundException e) {
      return ExecuteResponse.newBuilder().setStatus(Statuses.missingBlobs(Set.of(e.digest()), e.getMessage())).build();
    } catch (InvalidArgumentException e) {
      return ExecuteResponse.newBuilder().setStatus(status(Code.INVALID_ARGUMENT, e.getMessage())).build();
    } catch (StorageFullException e) {
      // This worker's CAS cannot take the action's inputs or outputs now; the client may retry.
      return ExecuteResponse.newBuilder().setStatus(status(Code.RESOURCE_EXHAUSTED, "worker " + workerId + ": "
          + e.getMessage())).build();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ExecuteResponse.newBuilder().setStatus(status(Code.ABORTED, "the worker is shutting down")).build();
    } catch (IOException | RuntimeException e) {
      if (TransientFaults.isTransient(e)) {
        // Not the action's fault, nor a bug: the scheduler queues it again (UNAVAILABLE).
        log.warn("action {} could not reach the cluster's storage: {}", assignment.getOperation(), e.toString());
        return ExecuteResponse.newBuilder().setStatus(status(Code.UNAVAILABLE, "worker " + workerId
            + " could not reach the cluster's storage: " + e)).build();
      }
      log.warn("action {} failed on this worker: {}", assignment.getOperation(), e.toString(), e);
      return ExecuteResponse.newBuilder().setStatus(status(Code.INTERNAL, "worker " + workerId + ": " + e)).build();
    } finally {
      deleteQuietly(stdout);
      deleteQuietly(stderr);
    }
  }

  /** The response to a run that got as far as its outputs: a timeout, cancellation or lack of memory said. */
  private ExecuteResponse response(Assignment assignment, CommandStep.Ran ran, ActionResult.Builder result) {
    ExecuteResponse.Builder response = ExecuteResponse.newBuilder().setResult(result);
    if (ran.outOfMemory()) {
      response.setMessage("the action was killed: it exceeded the memory limit of its executor on " + workerId);
    }
    if (ran.outcome().timedOut()) {
      response.setStatus(status(Code.DEADLINE_EXCEEDED, "the action exceeded its timeout of "
          + Durations.toString(assignment.getTimeout()) + " and was killed"));
    } else if (ran.outcome().cancelled()) {
      response.setStatus(status(Code.CANCELLED, "the action was cancelled"));
    }
    return response.build();
  }

  private static Status status(Code code, String message) {
    return Status.newBuilder().setCode(code.getNumber()).setMessage(message).build();
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.debug("could not delete {}: {}", file, e.toString());
    }
  }
}
