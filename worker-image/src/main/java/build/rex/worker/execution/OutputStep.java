package build.rex.worker.execution;

import build.bazel.remote.execution.v2.ActionResult;
import build.rex.storage.BlobStore;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.v1.Assignment;
import java.io.IOException;
import java.nio.file.Path;

/**
 * An action's last step: its outputs collected (unless it timed out or was cancelled, when they
 * may be half written), with stdout and stderr, and uploaded to their owners in the cluster.
 */
final class OutputStep {
  private final BlobStore cluster;
  private final DiskBlobStore local;

  OutputStep(BlobStore cluster, DiskBlobStore local) {
    this.cluster = cluster;
    this.local = local;
  }

  /** The ActionResult of a run, its blobs stored. */
  ActionResult.Builder collect(Assignment assignment, InputStep.Staged inputs, CommandRunner.Outcome outcome,
      Path stdout, Path stderr) throws IOException, InvalidArgumentException, InterruptedException {
    ActionResult.Builder result = ActionResult.newBuilder().setExitCode(outcome.exitCode());
    OutputCollector outputs = new OutputCollector(cluster, local);
    if (!outcome.timedOut() && !outcome.cancelled()) {
      outputs.collect(assignment.getCommand(), inputs.root().path, inputs.workingDirectory(), result);
    }
    result.setStdoutDigest(outputs.addLog(stdout)).setStderrDigest(outputs.addLog(stderr));
    TransientFaults.retry("uploading the outputs of " + assignment.getOperation(), outputs::upload);
    return result;
  }
}
