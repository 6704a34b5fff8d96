package build.rex.launcher;

import build.rex.scheduler.SchedulerConfig;
import build.rex.config.ConfigLoader;
import build.rex.config.Endpoint;
import build.rex.server.security.LocalCertificates;
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
 * {@code rex local}: writes a config per process under the data folder, starts the schedulers
 * and the workers as separate processes (and, with several schedulers, a balancer in front),
 * prints one line when all are ready, and stops every one of them on Ctrl-C or SIGTERM. A
 * process that dies is reported, and started again with --restart; without it, the cluster
 * carries on while a scheduler and a worker remain.
 * A second start on the same folder finds its data again.
 */
final class LocalCluster {
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_GRACE = Duration.ofSeconds(15);
  private final LocalClusterOptions options;
  private final Path home = Path.of(System.getProperty("rex.home", "."));
  private final List<ChildProcess> schedulers = new ArrayList<>();
  private final List<ChildProcess> workers = new ArrayList<>();
  private LocalBalancer balancer;
  private LocalCertificates certificates;
  private ServerRuntime runtime;
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
      String target = (options.tls() ? "grpcs" : "grpc") + "://127.0.0.1:" + options.port();
      System.out.println("rex local cluster ready on " + target + " (" + plural(options.schedulers(), "scheduler")
          + ", " + plural(options.workers(), "worker") + (options.images() ? ", from their container images" : "")
          + ", data in " + options.dataDir() + ")");
      System.out.println("web UI: http://127.0.0.1:" + options.schedulerAdminPort(0) + "/ui/login#token="
          + Files.readString(certificates.adminToken()).strip() + "  (the token is in " + certificates.adminToken() + ")");
      System.out.println("bazel flags: --remote_executor=" + target + clientFlags()
          + "  (or --remote_cache=" + target + " for caching only)");
      System.out.flush();
      while (true) {
        ChildProcess died = awaitNextExit();
        if (stopping) {
          return 0;
        }
        System.err.println("rex local: " + died.name + " exited unexpectedly (exit " + died.process().exitValue()
            + "). Last lines of " + died.log + ":\n" + died.logTail());
        if (options.restart()) {
          restart(died);
          continue;
        }
        if (schedulers.stream().noneMatch(ChildProcess::isAlive) || workers.stream().noneMatch(ChildProcess::isAlive)) {
          System.err.println("rex local: no scheduler or no worker is left; stopping the cluster");
          stopAll();
          return 1;
        }
        System.err.println("rex local: the cluster carries on without " + died.name);
      }
    }
  }

  /**
   * Starts a process that died again in its place; one that dies soon after it started waits a
   * little first, so a process that cannot start does not spin.
   */
  private synchronized void restart(ChildProcess died) throws IOException, InterruptedException {
    if (died.uptime().compareTo(Duration.ofSeconds(10)) < 0) {
      Thread.sleep(2_000);
    }
    if (stopping) {
      return;
    }
    ChildProcess again = died.restart();
    List<ChildProcess> group = schedulers.contains(died) ? schedulers : workers;
    group.set(group.indexOf(died), again);
    System.err.println("rex local: restarted " + died.name);
  }

  /** The Bazel flags that authenticate to a cluster started with --tls. */
  private String clientFlags() {
    if (!options.tls()) {
      return "";
    }
    return " --tls_certificate=" + certificates.caCertificate()
        + " --tls_client_certificate=" + certificates.clientCertificate()
        + " --tls_client_key=" + certificates.clientKey()
        + "\n  or, instead of the client certificate: --remote_header=Authorization=\"Bearer $(cat "
        + certificates.token() + ")\"\n ";
  }

  private boolean startAll() throws IOException, InterruptedException {
    try {
      runtime = options.images() ? PodmanRuntime.load(home, options.dataDir(), options.port()) : new JvmRuntime(home);
    } catch (IOException e) {
      System.err.println("rex local: " + e.getMessage());
      return false;
    }
    certificates = LocalCertificates.inFolder(options.dataDir().resolve("tls"));
    if (!portsFree()) {
      return false;
    }
    List<String> schedulerAddresses = new ArrayList<>();
    List<java.net.InetSocketAddress> clientPorts = new ArrayList<>();
    for (int i = 0; i < options.schedulers(); i++) {
      schedulerAddresses.add("127.0.0.1:" + options.schedulerInternalPort(i));
      clientPorts.add(new java.net.InetSocketAddress("127.0.0.1", options.schedulerGrpcPort(i)));
    }
    for (int i = 0; i < options.schedulers(); i++) {
      Path dir = options.dataDir().resolve("scheduler-" + i);
      Files.createDirectories(dir);
      SchedulerConfig config = new SchedulerConfig();
      config.grpc = new Endpoint("127.0.0.1", options.schedulerGrpcPort(i));
      config.admin = new build.rex.server.AdminEndpoint("127.0.0.1", options.schedulerAdminPort(i));
      config.admin.tokensFile = certificates.adminTokensFile().toString();
      if (options.tls()) {
        config.tls = certificates.publicTls();
        config.auth = certificates.auth();
      } else {
        // Explicitly open: plaintext on loopback, every local user may use it.
        config.tls.mode = "plaintext";
        config.auth.anonymous = List.of("read", "write", "execute");
      }
      config.cluster.grpc = new Endpoint("127.0.0.1", options.schedulerInternalPort(i));
      config.cluster.tls = certificates.internalTls();
      config.cluster.schedulers.addresses = schedulerAddresses;
      Path file = write(dir.resolve("scheduler.yaml"), config);
      schedulers.add(start(ServerRuntime.Component.SCHEDULER, "scheduler-" + i, file, dir.resolve("scheduler.log"),
          options.schedulerAdminPort(i)));
    }
    for (int i = 0; i < options.workers(); i++) {
      Path dir = options.dataDir().resolve("worker-" + i);
      Files.createDirectories(dir);
      WorkerConfig config = new WorkerConfig();
      config.grpc = new Endpoint("127.0.0.1", options.workerGrpcPort(i));
      config.admin = new build.rex.server.AdminEndpoint("127.0.0.1", options.workerAdminPort(i));
      config.admin.tokensFile = certificates.adminTokensFile().toString();
      config.storage.path = dir.toString();
      config.storage.maxSize = options.casSize();
      config.cluster.workerId = "worker-" + i;
      config.execution.executors.get(0).count = options.executors();
      config.cluster.tls = certificates.internalTls();
      config.cluster.schedulers.addresses = schedulerAddresses;
      config.cluster.schedulers.refreshSeconds = 1;
      config.cluster.rereplicationDelaySeconds = 10;
      // 'rex local' stops every process at once, so there is nobody to hand blobs to; the data
      // folders stay, and the next start finds them.
      config.cluster.drainOnShutdown = "actions";
      config.cluster.shutdownGraceSeconds = 10;
      Path file = write(dir.resolve("worker.yaml"), config);
      workers.add(start(ServerRuntime.Component.WORKER, "worker-" + i, file, dir.resolve("worker.log"),
          options.workerAdminPort(i)));
    }
    if (options.schedulers() > 1) {
      List<java.net.URI> readiness = new ArrayList<>();
      for (int i = 0; i < options.schedulers(); i++) {
        readiness.add(java.net.URI.create("http://127.0.0.1:" + options.schedulerAdminPort(i) + "/readyz"));
      }
      balancer = new LocalBalancer(options.port(), clientPorts, readiness);
    }
    return awaitReady();
  }

  private ChildProcess start(ServerRuntime.Component component, String name, Path config, Path log, int adminPort)
      throws IOException {
    return ChildProcess.start(name, runtime.command(component, name, config), runtime.environment(), log, adminPort,
        () -> runtime.killed(name), () -> runtime.exited(name));
  }

  private static Path write(Path file, Object config) throws IOException {
    Files.writeString(file, "# Written by 'rex local' on every start; edit the flags instead.\n" + ConfigLoader.toYaml(config));
    return file;
  }

  private static String plural(int count, String noun) {
    return count + " " + noun + (count == 1 ? "" : "s");
  }

  private List<ChildProcess> children() {
    List<ChildProcess> all = new ArrayList<>(schedulers);
    all.addAll(workers);
    return all;
  }

  /**
   * Every port the cluster will listen on is free now; else says which is taken and by whose
   * port it would have been, before anything starts (a process that cannot bind would only say
   * so in its log, and the others would wait for it).
   */
  private boolean portsFree() {
    java.util.Map<Integer, String> ports = new java.util.LinkedHashMap<>();
    if (options.schedulers() > 1) {
      ports.put(options.port(), "the client port (--port)");
    }
    for (int i = 0; i < options.schedulers(); i++) {
      ports.put(options.schedulerGrpcPort(i), "scheduler-" + i + "'s client port");
      ports.put(options.schedulerAdminPort(i), "scheduler-" + i + "'s admin port");
      ports.put(options.schedulerInternalPort(i), "scheduler-" + i + "'s internal port");
    }
    for (int i = 0; i < options.workers(); i++) {
      ports.put(options.workerGrpcPort(i), "worker-" + i + "'s gRPC port");
      ports.put(options.workerAdminPort(i), "worker-" + i + "'s admin port");
    }
    for (var port : ports.entrySet()) {
      try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
        probe.setReuseAddress(true);
        probe.bind(new java.net.InetSocketAddress("127.0.0.1", port.getKey()));
      } catch (IOException e) {
        System.err.println("rex local: port " + port.getKey() + " (" + port.getValue() + ") is in use on 127.0.0.1: "
            + e.getMessage() + "; stop what holds it or start with another --port (rex local uses --port up to --port+"
            + (options.schedulerInternalPort(options.schedulers() - 1) - options.port()) + ")");
        return false;
      }
    }
    return true;
  }

  /**
   * Waits for every process at once (schedulers are ready only once a worker has registered, so
   * waiting for one at a time would blame a scheduler for a worker that never started). A process
   * that exits meanwhile is named at once, with its log's last lines.
   */
  private boolean awaitReady() throws InterruptedException {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    java.util.Set<ChildProcess> waiting = new java.util.LinkedHashSet<>(children());
    while (!waiting.isEmpty()) {
      for (ChildProcess child : List.copyOf(waiting)) {
        if (!child.isAlive()) {
          System.err.println("rex local: " + child.name + " exited while starting (exit " + child.process().exitValue()
              + "). Last lines of " + child.log + ":\n" + child.logTail());
          return false;
        }
        if (child.isReady()) {
          waiting.remove(child);
        }
      }
      if (System.nanoTime() > deadline) {
        for (ChildProcess child : waiting) {
          System.err.println("rex local: " + child.name + " did not become ready within " + READY_TIMEOUT.toSeconds()
              + " s. Last lines of " + child.log + ":\n" + child.logTail());
        }
        return false;
      }
      Thread.sleep(100);
    }
    return true;
  }

  /** Waits for a process that is still running now to exit. */
  private ChildProcess awaitNextExit() throws Exception {
    CompletableFuture<ChildProcess> next = new CompletableFuture<>();
    for (ChildProcess child : children()) {
      if (child.isAlive()) {
        child.process().onExit().thenRun(() -> next.complete(child));
      }
    }
    return next.get();
  }

  /** Ctrl-C or SIGTERM: a requested stop, so once every child is down the launcher exits 0. */
  private void stopOnSignal() {
    boolean requested = !stopping;
    stopAll();
    if (requested) {
      System.out.println("rex local: stopped all " + children().size() + " processes");
      System.out.flush();
      Runtime.getRuntime().halt(0);
    }
  }

  /**
   * Stops the schedulers first, so clients see one clean disconnect and no new work starts,
   * then the workers; each group in parallel.
   */
  private synchronized void stopAll() {
    stopping = true;
    try {
      if (balancer != null) {
        balancer.close();
      }
    } catch (IOException e) {
      // already closed
    }
    stopInParallel(schedulers);
    stopInParallel(workers);
  }

  private static void stopInParallel(List<ChildProcess> group) {
    List<Thread> stoppers = new ArrayList<>();
    for (ChildProcess child : group) {
      Thread stopper = new Thread(() -> {
        try {
          child.stop(STOP_GRACE);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "stop-" + child.name);
      stopper.start();
      stoppers.add(stopper);
    }
    for (Thread stopper : stoppers) {
      try {
        stopper.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
