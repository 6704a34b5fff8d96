package build.rex.launcher;

import build.rex.scheduler.SchedulerConfig;
import build.rex.server.ConfigLoader;
import build.rex.server.Endpoint;
import build.rex.worker.WorkerConfig;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * {@code rex local}: writes a config per process under the data folder, starts the workers and
 * then the scheduler as separate processes, prints one line when all are ready, and stops every
 * one of them on Ctrl-C or SIGTERM. A second start on the same folder finds its data again.
 */
final class LocalCluster {
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_GRACE = Duration.ofSeconds(15);
  private final LocalClusterOptions options;
  private final Path home = Path.of(System.getProperty("rex.home", "."));
  private final List<ChildProcess> children = new ArrayList<>();
  private volatile boolean stopping;

  LocalCluster(LocalClusterOptions options) {
    this.options = options;
  }

  int run() throws Exception {
    Files.createDirectories(options.dataDir());
    try (FileChannel lockFile = FileChannel.open(options.dataDir().resolve(".lock"),
        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = lockFile.tryLock()) {
      if (lock == null) {
        System.err.println("rex local: another rex local is using " + options.dataDir());
        return 1;
      }
      Runtime.getRuntime().addShutdownHook(new Thread(this::stopOnSignal, "stop-children"));
      if (!startAll()) {
        stopAll();
        return 1;
      }
      String target = "grpc://127.0.0.1:" + options.port();
      System.out.println("rex local cluster ready on " + target + " (" + options.schedulers() + " scheduler, "
          + options.workers() + " worker" + (options.workers() == 1 ? "" : "s") + ", data in " + options.dataDir() + ")");
      System.out.println("bazel flags: --remote_executor=" + target + "  (or --remote_cache=" + target + " for caching only)");
      System.out.flush();
      ChildProcess died = awaitFirstExit();
      if (stopping) {
        return 0;
      }
      System.err.println("rex local: " + died.name + " exited unexpectedly; stopping the cluster. Last lines of "
          + died.log + ":\n" + died.logTail());
      stopAll();
      return 1;
    }
  }

  private boolean startAll() throws IOException, InterruptedException {
    List<String> workerAddresses = new ArrayList<>();
    for (int i = 0; i < options.workers(); i++) {
      Path dir = options.dataDir().resolve("worker-" + i);
      Files.createDirectories(dir);
      WorkerConfig config = new WorkerConfig();
      config.grpc = new Endpoint("127.0.0.1", options.workerGrpcPort(i));
      config.admin = new Endpoint("127.0.0.1", options.workerAdminPort(i));
      config.storage.path = dir.toString();
      config.execution.scheduler = "127.0.0.1:" + options.port();
      config.execution.workerId = "worker-" + i;
      Path file = write(dir.resolve("worker.yaml"), config);
      workerAddresses.add("127.0.0.1:" + options.workerGrpcPort(i));
      children.add(ChildProcess.start("worker-" + i, home.resolve("worker-image/target/rex-worker.jar"), file,
          dir.resolve("worker.log"), options.workerAdminPort(i)));
    }
    if (!awaitReady()) {
      return false;
    }
    Path dir = options.dataDir().resolve("scheduler-0");
    Files.createDirectories(dir);
    SchedulerConfig config = new SchedulerConfig();
    config.grpc = new Endpoint("127.0.0.1", options.port());
    config.admin = new Endpoint("127.0.0.1", options.schedulerAdminPort());
    config.workers = workerAddresses;
    Path file = write(dir.resolve("scheduler.yaml"), config);
    children.add(ChildProcess.start("scheduler-0", home.resolve("scheduler-image/target/rex-scheduler.jar"), file,
        dir.resolve("scheduler.log"), options.schedulerAdminPort()));
    return awaitReady();
  }

  private static Path write(Path file, Object config) throws IOException {
    Files.writeString(file, "# Written by 'rex local' on every start; edit the flags instead.\n" + ConfigLoader.toYaml(config));
    return file;
  }

  private boolean awaitReady() throws InterruptedException {
    for (ChildProcess child : children) {
      if (!child.awaitReady(READY_TIMEOUT)) {
        System.err.println("rex local: " + child.name + " did not become ready. Last lines of " + child.log + ":\n"
            + child.logTail());
        return false;
      }
    }
    return true;
  }

  private ChildProcess awaitFirstExit() throws Exception {
    CompletableFuture<ChildProcess> first = new CompletableFuture<>();
    for (ChildProcess child : children) {
      child.process().onExit().thenRun(() -> first.complete(child));
    }
    return first.get();
  }

  /** Ctrl-C or SIGTERM: a requested stop, so once every child is down the launcher exits 0. */
  private void stopOnSignal() {
    boolean requested = !stopping;
    stopAll();
    if (requested) {
      System.out.println("rex local: stopped all " + children.size() + " processes");
      System.out.flush();
      Runtime.getRuntime().halt(0);
    }
  }

  /** Stops the scheduler first, so clients see one clean disconnect, then the workers. */
  private synchronized void stopAll() {
    stopping = true;
    for (int i = children.size() - 1; i >= 0; i--) {
      try {
        children.get(i).stop(STOP_GRACE);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
