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
import build.bazel.remote.execution.v2.Platform;
import build.rex.server.Quantities;
import build.rex.v1.Assignment;
import build.rex.v1.ResourceUsage;
import build.rex.worker.sandbox.ResourceUse;
import build.rex.worker.sandbox.Sandbox;
import com.google.protobuf.Any;
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
public final class ActionRunner {
  private static final Logger log = LoggerFactory.getLogger(ActionRunner.class);
  private final String workerId;
  private final BlobStore cluster;
  private final DiskBlobStore local;
  private final Path execRoots;
  private final Sandbox sandbox;

  public ActionRunner(String workerId, BlobStore cluster, DiskBlobStore local, Path execRoots, Sandbox sandbox) {
    this.workerId = workerId;
    this.cluster = cluster;
    this.local = local;
    this.execRoots = execRoots;
    this.sandbox = sandbox;
  }

  /** Runs the assignment on an executor that offers {@code executor} (its cpu and memory become limits). */
  ExecuteResponse run(Assignment assignment, Platform executor, CommandRunner runner) {
    ExecutedActionMetadata.Builder metadata = ExecutedActionMetadata.newBuilder()
        .setWorker(workerId)
        .setQueuedTimestamp(assignment.getQueued())
        .setWorkerStartTimestamp(Timestamps.now());
    ActionResult.Builder result = ActionResult.newBuilder();
    Action action = assignment.getAction();
    Command command = assignment.getCommand();
    // Unique per attempt: an earlier attempt of the same operation (one the scheduler gave up on
    // while this worker was stalled, say) may still be cleaning up its exec root here.
    String id = assignment.getOperation().substring(assignment.getOperation().lastIndexOf('/') + 1) + "-"
        + assignment.getAttempt();
    Path stdout = execRoots.resolve(id + ".stdout");
    Path stderr = execRoots.resolve(id + ".stderr");
    try {
      metadata.setInputFetchStartTimestamp(Timestamps.now());
      MerkleTree inputs = inputTree(assignment);
      if (!inputs.missingDirectories().isEmpty()) {
        throw new BlobNotFoundException(inputs.missingDirectories().iterator().next());
      }
      List<Digest> files = new ArrayList<>(inputs.fileDigests());
      try (DiskBlobStore.Lease pinned = local.pin(files)) {
        InputFetcher fetcher = new InputFetcher(cluster, local);
        TransientFaults.retry("fetching the inputs of " + assignment.getOperation(), () -> fetcher.fetch(files));
        try (ExecRoot root = ExecRoot.create(execRoots.resolve(id), inputs, local)) {
          metadata.setInputFetchCompletedTimestamp(Timestamps.now());
          Path workingDirectory = root.path.resolve(command.getWorkingDirectory());
          createOutputParents(command, workingDirectory);
          sandbox.handOver(root.path);
          CommandRunner.Outcome outcome;
          boolean outOfMemory;
          // Unique per run: several workers may share the host's cgroup tree, and a requeued
          // action may run elsewhere while this run is being cleaned up.
          String runId = id + "-" + java.util.UUID.randomUUID().toString().substring(0, 8);
          try (Sandbox.Prepared prepared = sandbox.prepare(runId, assignment.getExecutorId(),
              CommandRunner.arguments(command, workingDirectory),
              limits(executor, action.hasPlatform() ? action.getPlatform() : command.getPlatform()))) {
            metadata.setExecutionStartTimestamp(Timestamps.now());
            outcome = runner.run(prepared, command, workingDirectory, stdout, stderr,
                Duration.ofMillis(Durations.toMillis(assignment.getTimeout())));
            metadata.setExecutionCompletedTimestamp(Timestamps.now());
            metadata.addAuxiliaryMetadata(Any.pack(usage(prepared)));
            outOfMemory = prepared.cgroup() != null && prepared.cgroup().outOfMemory();
          }
          result.setExitCode(outcome.exitCode());
          metadata.setOutputUploadStartTimestamp(Timestamps.now());
          OutputCollector outputs = new OutputCollector(cluster);
          if (!outcome.timedOut() && !outcome.cancelled()) {
            outputs.collect(command, root.path, workingDirectory, result);
          }
          result.setStdoutDigest(outputs.addLog(stdout)).setStderrDigest(outputs.addLog(stderr));
          TransientFaults.retry("uploading the outputs of " + assignment.getOperation(), outputs::upload);
          metadata.setOutputUploadCompletedTimestamp(Timestamps.now());
          ExecuteResponse.Builder response = ExecuteResponse.newBuilder();
          if (outOfMemory) {
            response.setMessage("the action was killed: it exceeded the memory limit of its executor on " + workerId);
          }
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

  /**
   * The input tree: as the scheduler sent it, read and checked there (nothing is hashed or
   * checked again), or, when it was too large to travel with the assignment (or the scheduler is
   * older and sent no digests), read from the CAS and checked here.
   */
  private MerkleTree inputTree(Assignment assignment)
      throws IOException, InvalidArgumentException, InterruptedException {
    Digest root = assignment.getAction().getInputRootDigest();
    if (assignment.getInputDirectoriesCount() > 0
        && assignment.getInputDirectoryDigestsCount() == assignment.getInputDirectoriesCount()) {
      return MerkleTree.trusted(root, assignment.getInputDirectoryDigestsList(), assignment.getInputDirectoriesList());
    }
    MerkleTree inputs = assignment.getInputDirectoriesCount() > 0
        ? MerkleTree.of(root, assignment.getInputDirectoriesList())
        : loadTree(root);
    InputTreeValidator.validate(inputs);
    InputTreeValidator.validate(assignment.getCommand());
    return inputs;
  }

  private MerkleTree loadTree(Digest root) throws IOException, InvalidArgumentException, InterruptedException {
    MerkleTree[] tree = new MerkleTree[1];
    TransientFaults.retry("reading input tree " + root.getHash(), () -> tree[0] = MerkleTree.load(cluster, root));
    return tree[0];
  }

  /** Limits from the executor's cpu and memory; network only when the action asks for it. */
  private static Sandbox.Limits limits(Platform executor, Platform action) {
    double cpus = 0;
    long memory = 0;
    for (Platform.Property property : executor.getPropertiesList()) {
      if (property.getName().equals("cpu")) {
        cpus = Quantities.parse(property.getValue());
      } else if (property.getName().equals("memory")) {
        memory = (long) Quantities.parse(property.getValue());
      }
    }
    boolean network = action.getPropertiesList().stream()
        .anyMatch(p -> p.getName().equals("network") && p.getValue().equals("allowed"));
    return new Sandbox.Limits(cpus, memory, network);
  }

  private ResourceUsage usage(Sandbox.Prepared prepared) {
    ResourceUsage.Builder usage = ResourceUsage.newBuilder().addAllIsolation(sandbox.availableLayers());
    if (prepared.cgroup() != null) {
      ResourceUse use = prepared.cgroup().usage();
      usage.setUserCpu(Durations.fromNanos(use.userCpu().toNanos()))
          .setSystemCpu(Durations.fromNanos(use.systemCpu().toNanos()))
          .setPeakMemoryBytes(use.peakMemoryBytes());
    }
    return usage.build();
  }

  /**
   * The folders that lead up to each output, which the command may expect to exist. Made one
   * level at a time without following symlinks, so an input symlink cannot lead them elsewhere;
   * an input file in the way is the client's mistake.
   */
  private static void createOutputParents(Command command, Path workingDirectory)
      throws IOException, InvalidArgumentException {
    List<String> outputs = new ArrayList<>(command.getOutputPathsList());
    if (outputs.isEmpty()) {
      outputs.addAll(command.getOutputFilesList());
      outputs.addAll(command.getOutputDirectoriesList());
    }
    for (String output : outputs) {
      Path parent = workingDirectory.resolve(output).normalize().getParent();
      if (parent == null || !parent.startsWith(workingDirectory)) {
        continue;
      }
      Path dir = workingDirectory;
      for (Path segment : workingDirectory.relativize(parent)) {
        dir = dir.resolve(segment);
        if (Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        if (Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          throw new InvalidArgumentException("output path '" + output + "' needs a directory at '"
              + workingDirectory.relativize(dir) + "', where the input root has a file or symlink");
        }
        Files.createDirectory(dir);
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
