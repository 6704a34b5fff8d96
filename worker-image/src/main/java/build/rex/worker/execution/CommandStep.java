package build.rex.worker.execution;

import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.bazel.remote.execution.v2.Platform;
import build.rex.server.Quantities;
import build.rex.v1.Assignment;
import build.rex.v1.ResourceUsage;
import build.rex.worker.sandbox.ResourceUse;
import build.rex.worker.sandbox.Sandbox;
import com.google.protobuf.Any;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.Timestamps;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * An action's middle step: its command run in the sandbox, on the executor's cpu and memory as
 * limits, timed into the metadata with the resource use it measured.
 */
final class CommandStep {
  private final Sandbox sandbox;

  CommandStep(Sandbox sandbox) {
    this.sandbox = sandbox;
  }

  /** How the command ended, and whether the kernel killed it for memory. */
  record Ran(CommandRunner.Outcome outcome, boolean outOfMemory) {}

  /**
   * @param runId unique per run: several workers may share the host's cgroup tree, and a
   *     requeued action may run elsewhere while this run is being cleaned up
   */
  Ran run(Assignment assignment, Platform executor, CommandRunner runner, InputStep.Staged inputs, String runId,
      Path stdout, Path stderr, ExecutedActionMetadata.Builder metadata) throws IOException, InterruptedException {
    sandbox.handOver(inputs.root().path);
    Platform requested = assignment.getAction().hasPlatform()
        ? assignment.getAction().getPlatform() : assignment.getCommand().getPlatform();
    try (Sandbox.Prepared prepared = sandbox.prepare(runId, assignment.getExecutorId(),
        CommandRunner.arguments(assignment.getCommand(), inputs.workingDirectory()), limits(executor, requested))) {
      metadata.setExecutionStartTimestamp(Timestamps.now());
      CommandRunner.Outcome outcome = runner.run(prepared, assignment.getCommand(), inputs.workingDirectory(), stdout,
          stderr, Duration.ofMillis(Durations.toMillis(assignment.getTimeout())));
      metadata.setExecutionCompletedTimestamp(Timestamps.now());
      metadata.addAuxiliaryMetadata(Any.pack(usage(prepared)));
      return new Ran(outcome, prepared.cgroup() != null && prepared.cgroup().outOfMemory());
    }
  }

  /** Limits from the executor's cpu and memory; network only when the action asks for it. */
  static Sandbox.Limits limits(Platform executor, Platform action) {
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
}
