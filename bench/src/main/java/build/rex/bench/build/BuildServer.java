package build.rex.bench.build;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A remote execution server under benchmark, running as its own processes: the Bazel flag that
 * points at it, and the peak memory and CPU time of each of its server processes.
 */
public interface BuildServer extends AutoCloseable {
  String name();

  /** The Bazel flag that sends every action here, e.g. {@code --remote_executor=grpc://127.0.0.1:8980}. */
  String remoteFlag();

  /** The server's own processes (not the actions they run), by role. */
  java.util.Map<String, ProcessHandle> processes();

  /** Peak resident memory (VmHWM) in MiB of each server process, by role. */
  default java.util.Map<String, Double> peakRssMiB() throws IOException {
    java.util.Map<String, Double> peaks = new java.util.LinkedHashMap<>();
    for (var process : processes().entrySet()) {
      peaks.put(process.getKey(), peakRssMiB(process.getValue()));
    }
    return peaks;
  }

  /**
   * CPU seconds (user and system) each of the server's processes has used so far, by role; the actions they
   * spawn count for themselves, not here. On 2 cores, what a server spends is taken from the
   * compilers.
   */
  default java.util.Map<String, Double> cpuSecondsByRole() {
    java.util.Map<String, Double> seconds = new java.util.LinkedHashMap<>();
    processes().forEach((role, process) ->
        seconds.put(role, process.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(0.0)));
    return seconds;
  }

  /** What kinds of threads a JVM's CPU goes to, told apart by their names. */
  enum ThreadKind {
    JIT("C1 CompilerThre", "C2 CompilerThre"),
    GC("GC Thread", "VM Thread", "G1 ", "Service Thread"),
    NETWORK("grpc-nio-worker", "grpc-default-wo", "epoll", "nioEventLoop"),
    OTHER();

    private final List<String> prefixes;

    ThreadKind(String... prefixes) {
      this.prefixes = List.of(prefixes);
    }

    static ThreadKind of(String threadName) {
      for (ThreadKind kind : values()) {
        if (kind.prefixes.stream().anyMatch(threadName::startsWith)) {
          return kind;
        }
      }
      return OTHER;
    }
  }

  /** One thread's CPU seconds so far, and its kind. */
  record ThreadCpu(ThreadKind kind, double seconds) {}

  /**
   * The CPU seconds of each live thread of the server's processes so far, by process and
   * thread id, from /proc. Tells how much of a JVM's CPU is its own upkeep (compiling,
   * collecting) rather than serving.
   */
  default java.util.Map<String, ThreadCpu> threadCpu() {
    java.util.Map<String, ThreadCpu> threads = new java.util.HashMap<>();
    for (ProcessHandle process : processes().values()) {
      try (var tasks = Files.list(Path.of("/proc/" + process.pid() + "/task"))) {
        for (Path task : tasks.toList()) {
          try {
            String stat = Files.readString(task.resolve("stat"));
            // The name is inside the parentheses; utime and stime are the 12th and 13th fields after them.
            String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            double ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            threads.put(process.pid() + "/" + task.getFileName(), new ThreadCpu(ThreadKind.of(name), ticks / 100.0)); // USER_HZ is 100
          } catch (IOException | RuntimeException threadEnded) {
            // it ended while we looked
          }
        }
      } catch (IOException processEnded) {
        // nothing to count
      }
    }
    return threads;
  }

  /**
   * The CPU seconds threads spent between two {@link #threadCpu} looks, by kind: of the threads
   * alive at the second look (a JVM ends idle compiler threads, and what a thread spent before
   * it ended is not counted, so this is a breakdown, not a total).
   */
  static java.util.Map<ThreadKind, Double> cpuByKind(java.util.Map<String, ThreadCpu> before,
      java.util.Map<String, ThreadCpu> after) {
    java.util.Map<ThreadKind, Double> seconds = new java.util.EnumMap<>(ThreadKind.class);
    for (ThreadKind kind : ThreadKind.values()) {
      seconds.put(kind, 0.0);
    }
    after.forEach((id, thread) -> {
      ThreadCpu earlier = before.get(id);
      seconds.merge(thread.kind(), thread.seconds() - (earlier == null ? 0 : earlier.seconds()), Double::sum);
    });
    return seconds;
  }

  @Override
  void close() throws Exception;

  /** Peak resident memory of a live process, from /proc. */
  static double peakRssMiB(ProcessHandle process) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    throw new IOException("no VmHWM for process " + process.pid());
  }

  /** The java command this benchmark runs on, for the server processes it starts. */
  static String java() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  /** Starts {@code command} and waits until a line of its output passes {@code ready}. */
  static Process start(List<String> command, Path log, Predicate<String> ready, long timeoutSeconds)
      throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    CompletableFuture<Void> started = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8)); var out = Files.newBufferedWriter(log)) {
        for (String line; (line = lines.readLine()) != null; ) {
          out.write(line);
          out.newLine();
          out.flush();
          if (ready.test(line)) {
            started.complete(null);
          }
        }
      } catch (IOException e) {
        started.completeExceptionally(e);
      }
      started.completeExceptionally(new IOException(command.get(0) + " ended before it was ready; see " + log));
    }, "output-of-" + command.get(0));
    reader.setDaemon(true);
    reader.start();
    try {
      started.get(timeoutSeconds, TimeUnit.SECONDS);
    } catch (Exception e) {
      process.destroyForcibly().waitFor();
      List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
      throw new IOException("could not start " + String.join(" ", command) + ": " + e.getMessage() + "; its last lines:\n"
          + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())));
    }
    return process;
  }

  /** Stops a process and everything it started, politely first. */
  static void stop(Process process) throws InterruptedException {
    List<ProcessHandle> children = process.descendants().toList();
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
    children.forEach(ProcessHandle::destroyForcibly);
  }
}
