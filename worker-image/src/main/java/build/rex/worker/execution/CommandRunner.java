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
import java.util.concurrent.TimeUnit;

/**
 * Runs a Command with exactly its arguments, working directory and environment, stdout and
 * stderr to files, and kills the whole process tree when it times out or is cancelled.
 */
final class CommandRunner {
  /** How a run ended. */
  record Outcome(int exitCode, boolean timedOut, boolean cancelled) {}

  private volatile Process process;
  private volatile boolean cancelled;

  private volatile Runnable killOthers = () -> {};

  /**
   * Runs {@code argv} (the Command's arguments, resolved and wrapped in the sandbox); {@code
   * killOthers} kills whatever else belongs to the action, e.g. everything in its cgroup.
   */
  Outcome run(List<String> argv, Command command, Path workingDirectory, Path stdout, Path stderr, Duration timeout,
      Runnable killOthers) throws IOException, InterruptedException {
    this.killOthers = killOthers;
    ProcessBuilder builder = new ProcessBuilder(argv)
        .directory(workingDirectory.toFile())
        .redirectOutput(stdout.toFile())
        .redirectError(stderr.toFile());
    Map<String, String> environment = builder.environment();
    environment.clear();
    command.getEnvironmentVariablesList().forEach(v -> environment.put(v.getName(), v.getValue()));
    process = builder.start();
    if (cancelled) {
      killTree();
    }
    boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!finished) {
      killTree();
      process.waitFor();
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
    Process running = process;
    killOthers.run();
    running.descendants().forEach(ProcessHandle::destroyForcibly);
    running.destroyForcibly();
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
