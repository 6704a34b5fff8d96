package build.rex.launcher;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One server process of the local cluster, with its log file and readiness probe. */
final class ChildProcess {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  final String name;
  final Path log;
  private final int adminPort;
  private final List<String> command;
  private final java.util.Map<String, String> environment;
  private final Process process;
  private final Runnable afterKill;
  private final Runnable afterExit;
  private final long startedNanos = System.nanoTime();

  private ChildProcess(String name, Path log, int adminPort, List<String> command, java.util.Map<String, String> environment,
      Process process, Runnable afterKill, Runnable afterExit) {
    this.name = name;
    this.log = log;
    this.adminPort = adminPort;
    this.command = command;
    this.environment = environment;
    this.process = process;
    this.afterKill = afterKill;
    this.afterExit = afterExit;
  }

  /**
   * @param afterKill what else to stop when the process had to be killed (e.g. its container)
   * @param afterExit what to do once the process has exited, however it ended
   */
  static ChildProcess start(String name, List<String> command, java.util.Map<String, String> environment, Path log,
      int adminPort, Runnable afterKill, Runnable afterExit) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().putAll(environment);
    return new ChildProcess(name, log, adminPort, List.copyOf(command), java.util.Map.copyOf(environment), builder.start(),
        afterKill, afterExit);
  }

  /** The same process started again, once this one has exited (what is left of it is cleaned up first). */
  ChildProcess restart() throws IOException {
    afterKill.run();
    afterExit.run();
    return start(name, command, environment, log, adminPort, afterKill, afterExit);
  }

  /** How long the process ran. */
  Duration uptime() {
    return Duration.ofNanos(System.nanoTime() - startedNanos);
  }

  /** One look at /readyz. */
  boolean isReady() throws InterruptedException {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/readyz"))
          .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false; // not listening yet
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  Process process() {
    return process;
  }

  /** SIGTERM, then SIGKILL if it has not exited within the grace period. */
  void stop(Duration grace) throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
        afterKill.run();
      }
    }
    afterExit.run();
  }

  String logTail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
