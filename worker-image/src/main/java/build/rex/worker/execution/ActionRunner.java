package build.rex.worker.execution;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.InputTreeValidator;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.MerkleTree;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.service.Statuses;
import build.rex.v1.Assignment;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.Timestamps;
import com.google.rpc.Code;
import com.google.rpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one assignment: fetches its inputs into the worker's CAS (pinned while the action runs),
 * lays out the exec root, runs the command, and uploads outputs, stdout and stderr. Whatever
 * happens, it answers with an ExecuteResponse; errors go into its status, never lost.
 */
final class ActionRunner {
  private static final Logger log = LoggerFactory.getLogger(ActionRunner.class);
  private final String workerId;
  private final BlobStore cluster;
  private final DiskBlobStore local;
  private final Path execRoots;

  ActionRunner(String workerId, BlobStore cluster, DiskBlobStore local, Path execRoots) {
    this.workerId = workerId;
    this.cluster = cluster;
    this.local = local;
    this.execRoots = execRoots;
  }

  ExecuteResponse run(Assignment assignment, CommandRunner runner) {
    ExecutedActionMetadata.Builder metadata = ExecutedActionMetadata.newBuilder()
        .setWorker(workerId)
        .setQueuedTimestamp(assignment.getQueued())
        .setWorkerStartTimestamp(Timestamps.now());
    ActionResult.Builder result = ActionResult.newBuilder();
    Action action = assignment.getAction();
    Command command = assignment.getCommand();
    String id = assignment.getOperation().substring(assignment.getOperation().lastIndexOf('/') + 1);
    Path stdout = execRoots.resolve(id + ".stdout");
    Path stderr = execRoots.resolve(id + ".stderr");
    try {
      metadata.setInputFetchStartTimestamp(Timestamps.now());
      MerkleTree inputs = MerkleTree.load(cluster, action.getInputRootDigest());
      if (!inputs.missingDirectories().isEmpty()) {
        throw new BlobNotFoundException(inputs.missingDirectories().iterator().next());
      }
      InputTreeValidator.validate(inputs);
      InputTreeValidator.validate(command);
      List<Digest> files = new ArrayList<>(inputs.fileDigests());
      try (DiskBlobStore.Lease pinned = local.pin(files)) {
        new InputFetcher(cluster, local).fetch(files);
        try (ExecRoot root = ExecRoot.create(execRoots.resolve(id), inputs, local)) {
          metadata.setInputFetchCompletedTimestamp(Timestamps.now());
          Path workingDirectory = root.path.resolve(command.getWorkingDirectory());
          createOutputParents(command, workingDirectory);
          metadata.setExecutionStartTimestamp(Timestamps.now());
          CommandRunner.Outcome outcome = runner.run(command, workingDirectory, stdout, stderr,
              Duration.ofMillis(Durations.toMillis(assignment.getTimeout())));
          metadata.setExecutionCompletedTimestamp(Timestamps.now());
          result.setExitCode(outcome.exitCode());
          metadata.setOutputUploadStartTimestamp(Timestamps.now());
          OutputCollector outputs = new OutputCollector(cluster);
          if (!outcome.timedOut() && !outcome.cancelled()) {
            outputs.collect(command, workingDirectory, result);
          }
          result.setStdoutDigest(outputs.addLog(stdout)).setStderrDigest(outputs.addLog(stderr));
          outputs.upload();
          metadata.setOutputUploadCompletedTimestamp(Timestamps.now());
          ExecuteResponse.Builder response = ExecuteResponse.newBuilder();
          if (outcome.timedOut()) {
            response.setStatus(status(Code.DEADLINE_EXCEEDED, "the action exceeded its timeout of "
                + Durations.toString(assignment.getTimeout()) + " and was killed"));
          } else if (outcome.cancelled()) {
            response.setStatus(status(Code.CANCELLED, "the action was cancelled"));
          }
          return response.setResult(result.setExecutionMetadata(metadata.setWorkerCompletedTimestamp(Timestamps.now())))
              .build();
        }
      }
    } catch (BlobNotFoundException e) {
      return ExecuteResponse.newBuilder().setStatus(Statuses.missingBlobs(Set.of(e.digest()), e.getMessage())).build();
    } catch (InvalidArgumentException e) {
      return ExecuteResponse.newBuilder().setStatus(status(Code.INVALID_ARGUMENT, e.getMessage())).build();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ExecuteResponse.newBuilder().setStatus(status(Code.ABORTED, "the worker is shutting down")).build();
    } catch (IOException | RuntimeException e) {
      log.warn("action {} failed on this worker: {}", assignment.getOperation(), e.toString());
      return ExecuteResponse.newBuilder().setStatus(status(Code.INTERNAL, "worker " + workerId + ": " + e)).build();
    } finally {
      deleteQuietly(stdout);
      deleteQuietly(stderr);
    }
  }

  /** The folders that lead up to each output, which the command may expect to exist. */
  private static void createOutputParents(Command command, Path workingDirectory) throws IOException {
    List<String> outputs = new ArrayList<>(command.getOutputPathsList());
    if (outputs.isEmpty()) {
      outputs.addAll(command.getOutputFilesList());
      outputs.addAll(command.getOutputDirectoriesList());
    }
    for (String output : outputs) {
      Path parent = workingDirectory.resolve(output).getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    }
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
