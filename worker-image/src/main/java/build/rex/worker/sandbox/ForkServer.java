package build.rex.worker.sandbox;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The worker's end of {@code rex-sandbox --serve}: one long-lived helper process that forks
 * every sandboxed command, instead of the JVM spawning the helper for each (a JVM spawn runs
 * Java's own helper program first, then ours). See rex-sandbox.c for the framing. The server
 * lives while its stdin is open, so it and its children end with the worker, however it ends.
 */
final class ForkServer implements AutoCloseable {
  private final Process server;
  private final OutputStream requests;
  private final Map<String, Child> children = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private volatile String deathCause;

  private ForkServer(Process server) {
    this.server = server;
    this.requests = server.getOutputStream();
    Thread reader = new Thread(this::readAnswers, "fork-server-answers");
    reader.setDaemon(true);
    reader.start();
  }

  static ForkServer start(String helper) throws IOException {
    return new ForkServer(new ProcessBuilder(helper, "--serve")
        .redirectError(ProcessBuilder.Redirect.INHERIT).start());
  }

  boolean isAlive() {
    return deathCause == null && server.isAlive();
  }

  /**
   * Starts {@code arguments} (the helper's flags, {@code --}, then the program and its
   * arguments) with exactly {@code environment}, in {@code directory}, stdout and stderr to files.
   */
  SandboxedProcess start(List<String> arguments, Map<String, String> environment, Path directory, Path stdout,
      Path stderr) throws IOException, InterruptedException {
    String id = Long.toString(ids.incrementAndGet());
    Child child = new Child(id);
    children.put(id, child);
    ByteArrayOutputStream fields = new ByteArrayOutputStream();
    for (String field : List.of("run", id, directory.toString(), stdout.toString(), stderr.toString(),
        Integer.toString(arguments.size()))) {
      field(fields, field);
    }
    arguments.forEach(argument -> field(fields, argument));
    field(fields, Integer.toString(environment.size()));
    environment.forEach((name, value) -> field(fields, name + "=" + value));
    send(fields.toByteArray());
    try {
      child.pid.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      children.remove(id);
      throw new IOException(e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      children.remove(id);
      throw new IOException("the sandbox's fork server did not start a command within 30 s");
    }
    return child;
  }

  private static void field(ByteArrayOutputStream out, String value) {
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a NUL character in an argument or environment variable");
    }
    out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
    out.write(0);
  }

  private synchronized void send(byte[] payload) throws IOException {
    if (deathCause != null) {
      throw new IOException(deathCause);
    }
    requests.write((payload.length + "\n").getBytes(StandardCharsets.US_ASCII));
    requests.write(payload);
    requests.flush();
  }

  private void readAnswers() {
    try (BufferedReader answers = new BufferedReader(new InputStreamReader(server.getInputStream(),
        StandardCharsets.UTF_8))) {
      for (String line; (line = answers.readLine()) != null; ) {
        String[] parts = line.split(" ", 3);
        Child child = parts.length == 3 ? children.get(parts[1]) : null;
        if (child == null) {
          continue;
        }
        switch (parts[0]) {
          case "started" -> child.pid.complete(Long.parseLong(parts[2]));
          case "exited" -> {
            children.remove(parts[1]);
            child.exit.complete(Integer.parseInt(parts[2]));
          }
          case "failed" -> {
            children.remove(parts[1]);
            child.pid.completeExceptionally(new IOException("the sandbox could not start the command: " + parts[2]));
          }
          default -> { }
        }
      }
    } catch (IOException | RuntimeException e) {
      // the server is gone; said below
    }
    deathCause = "the sandbox's fork server ended (exit " + (server.isAlive() ? "unknown" : server.exitValue()) + ")";
    IOException death = new IOException(deathCause);
    children.values().forEach(child -> {
      child.pid.completeExceptionally(death);
      child.exit.completeExceptionally(death);
    });
    children.clear();
  }

  /** Ends the server: it kills whatever it still runs. */
  @Override
  public void close() {
    SandboxHelper.endByClosingStdin(server);
  }


  /** One command the server forked. */
  private final class Child implements SandboxedProcess {
    private final String id;
    private final CompletableFuture<Long> pid = new CompletableFuture<>();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();

    Child(String id) {
      this.id = id;
    }

    @Override
    public boolean waitFor(long millis) throws IOException, InterruptedException {
      try {
        exit.get(millis, TimeUnit.MILLISECONDS);
        return true;
      } catch (TimeoutException e) {
        return false;
      } catch (ExecutionException e) {
        throw new IOException(e.getCause().getMessage(), e.getCause());
      }
    }

    @Override
    public int exitValue() {
      return exit.getNow(-1);
    }

    @Override
    public void kill() {
      Long started = pid.getNow(null);
      if (started != null) {
        // Without namespaces, what the command started is not the server's to kill: find it first.
        ProcessHandle.of(started).ifPresent(p -> p.descendants().forEach(ProcessHandle::destroyForcibly));
      }
      try {
        send(killRequest());
      } catch (IOException e) {
        // the server is gone, and with it the command
      }
    }

    private byte[] killRequest() {
      ByteArrayOutputStream fields = new ByteArrayOutputStream();
      field(fields, "kill");
      field(fields, id);
      return fields.toByteArray();
    }
  }
}
