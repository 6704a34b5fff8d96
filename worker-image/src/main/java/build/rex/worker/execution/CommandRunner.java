package build.rex.worker.execution;

import build.bazel.remote.execution.v2.Command;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import build.rex.worker.sandbox.Sandbox;
import build.rex.worker.sandbox.SandboxedProcess;

/**
 * Runs a Command with exactly its arguments, working directory and environment, stdout and
 * stderr to files, and kills the whole process tree when it times out or is cancelled.
 */
final class CommandRunner {
  /** How a run ended. */
  record Outcome(int exitCode, boolean timedOut, boolean cancelled) {}

  private volatile SandboxedProcess process;
  private volatile boolean cancelled;
  private volatile Runnable killOthers = () -> {};

  /**
   * Runs a prepared command (the Command's arguments, resolved and wrapped in the sandbox); what
   * else belongs to the action, e.g. everything in its cgroup, is killed with it.
   */
  Outcome run(Sandbox.Prepared prepared, Command command, Path workingDirectory, Path stdout, Path stderr,
      Duration timeout) throws IOException, InterruptedException {
    this.killOthers = prepared.cgroup() == null ? () -> { } : prepared.cgroup()::killAll;
    Map<String, String> environment = new java.util.LinkedHashMap<>();
    command.getEnvironmentVariablesList().forEach(v -> environment.put(v.getName(), v.getValue()));
    process = prepared.start(environment, workingDirectory, stdout, stderr);
    if (cancelled) {
      killTree();
    }
    boolean finished = process.waitFor(timeout.toMillis());
    if (!finished) {
      killTree();
      process.waitFor(Long.MAX_VALUE);
      return new Outcome(process.exitValue(), !cancelled, cancelled);
    }
    // Children a finished command left in the background are not hunted down here: listing
    // descendants scans all of /proc, which costs more than a no-op action. The PID namespace
    // of the isolation layer ends them with the command.
    return new Outcome(process.exitValue(), false, cancelled);
  }

  /** Stops the run from another thread; the outcome says it was cancelled. */
  void cancel() {
    cancelled = true;
    if (process != null) {
      killTree();
    }
  }

  private void killTree() {
    killOthers.run();
    process.kill();
  }

  /**
   * The argument list with the program resolved: a relative path with a '/' is relative to the
   * working directory, a bare name is looked up on the Command's PATH (or the worker's if the
   * Command sets none).
   */
  static List<String> arguments(Command command, Path workingDirectory) {
    List<String> arguments = new ArrayList<>(command.getArgumentsList());
    String program = arguments.get(0);
    if (program.contains("/")) {
      arguments.set(0, workingDirectory.resolve(program).toString());
      return arguments;
    }
    String path = command.getEnvironmentVariablesList().stream().filter(v -> v.getName().equals("PATH"))
        .map(v -> v.getValue()).findFirst().orElse(System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = workingDirectory.resolve(dir.isEmpty() ? "." : dir).resolve(program);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        arguments.set(0, candidate.toString());
        return arguments;
      }
    }
    return arguments; // not found: starting it reports the error
  }
}
