package build.rex.worker.sandbox;

import java.io.IOException;

/** A command started in the sandbox (or, with no sandbox, as a plain process). */
public interface SandboxedProcess {
  /** Waits up to {@code millis} for it to end; true when it has. */
  boolean waitFor(long millis) throws IOException, InterruptedException;

  /** How it ended: its exit code, or 128 plus the signal that ended it. Only after it ended. */
  int exitValue();

  /** Kills it and what it started that is still its own (the rest dies with its namespaces or cgroup). */
  void kill();

  /** A process the JVM started itself. */
  static SandboxedProcess of(Process process) {
    return new SandboxedProcess() {
      @Override
      public boolean waitFor(long millis) throws InterruptedException {
        return process.waitFor(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
      }

      @Override
      public int exitValue() {
        return process.exitValue();
      }

      @Override
      public void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
      }
    };
  }
}
