package build.rex.scheduler;

import build.rex.config.ByteSize;
import build.rex.config.Endpoint;
import build.rex.server.PeerChannels;
import build.rex.server.security.LocalCertificates;
import build.rex.worker.WorkerConfig;
import build.rex.worker.WorkerServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler and workers in this JVM, talking real gRPC over loopback and storing on real
 * disk, for protocol tests. Restarting keeps the workers' data folders.
 */
final class LocalStack implements AutoCloseable {
  final Path dataDir;
  private final long casBytes;
  private final int workerCount;
  private final int executorsPerWorker;
  private final int replicas;
  private final java.util.function.Consumer<SchedulerConfig> customize;
  private final java.util.function.Consumer<WorkerConfig> customizeWorkers;
  /**
   * The first of the stack's ports, chosen up front (below the ephemeral range): the scheduler's,
   * then its internal port, then one per worker. Restarts keep them, so a restarted scheduler is
   * found at the same address, as a StatefulSet pod keeps its name.
   */
  private final int basePort;
  private final LocalCertificates certificates;
  final List<WorkerServer> workers = new ArrayList<>();
  WorkerServer worker;
  SchedulerServer scheduler;
  ManagedChannel channel;

  LocalStack(Path dataDir, long casBytes) throws Exception {
    this(dataDir, casBytes, 1);
  }

  LocalStack(Path dataDir, long casBytes, int workerCount) throws Exception {
    this(dataDir, casBytes, workerCount, 0);
  }

  /** With {@code executorsPerWorker} above 0, workers run actions for the scheduler. */
  LocalStack(Path dataDir, long casBytes, int workerCount, int executorsPerWorker) throws Exception {
    this(dataDir, casBytes, workerCount, executorsPerWorker, 2);
  }

  /** {@code replicas}: copies of each blob (capped at the number of workers). */
  LocalStack(Path dataDir, long casBytes, int workerCount, int executorsPerWorker, int replicas) throws Exception {
    this(dataDir, casBytes, workerCount, executorsPerWorker, replicas, config -> { });
  }

  /** {@code customize} changes the scheduler's config before it starts. */
  LocalStack(Path dataDir, long casBytes, int workerCount, int executorsPerWorker, int replicas,
      java.util.function.Consumer<SchedulerConfig> customize) throws Exception {
    this(dataDir, casBytes, workerCount, executorsPerWorker, replicas, customize, config -> { });
  }

  /** {@code customizeWorkers} changes each worker's config before it starts. */
  LocalStack(Path dataDir, long casBytes, int workerCount, int executorsPerWorker, int replicas,
      java.util.function.Consumer<SchedulerConfig> customize, java.util.function.Consumer<WorkerConfig> customizeWorkers)
      throws Exception {
    this.customizeWorkers = customizeWorkers;
    this.customize = customize;
    this.replicas = replicas;
    this.dataDir = dataDir;
    this.casBytes = casBytes;
    this.workerCount = workerCount;
    this.executorsPerWorker = executorsPerWorker;
    basePort = build.rex.server.FreePorts.block(2 + workerCount);
    certificates = LocalCertificates.inFolder(dataDir.resolve("tls"));
    start();
  }

  private void start() throws Exception {
    workers.clear();
    SchedulerConfig schedulerConfig = new SchedulerConfig();
    schedulerConfig.grpc = new Endpoint("127.0.0.1", basePort);
    // The client port is open on loopback unless a test says otherwise; the cluster's own
    // connections always use mutual TLS, as in production.
    schedulerConfig.tls.mode = "plaintext";
    schedulerConfig.auth.anonymous = List.of("read", "write", "execute");
    schedulerConfig.cluster.grpc = new Endpoint("127.0.0.1", internalPort());
    schedulerConfig.cluster.tls = certificates.internalTls();
    schedulerConfig.cluster.schedulers.addresses = List.of("127.0.0.1:" + internalPort());
    schedulerConfig.execution.defaultTimeoutSeconds = 300;
    schedulerConfig.execution.maxTimeoutSeconds = 600;
    schedulerConfig.admin = new build.rex.server.AdminEndpoint("127.0.0.1", 0);
    schedulerConfig.cas.replicas = replicas;
    customize.accept(schedulerConfig);
    schedulerConfig.validate();
    scheduler = new SchedulerServer(schedulerConfig);
    for (int i = 0; i < workerCount; i++) {
      workers.add(startWorker(i));
    }
    worker = workers.get(0);
    awaitRegistered(workerCount);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", scheduler.grpcPort()).usePlaintext()
        .maxInboundMessageSize(16 << 20).build();
  }

  private int internalPort() {
    return basePort + 1;
  }

  /** Starts worker {@code i} on its data folder (and its old port, as a StatefulSet pod keeps its name). */
  WorkerServer startWorker(int i) throws Exception {
    WorkerConfig workerConfig = new WorkerConfig();
    workerConfig.grpc = new Endpoint("127.0.0.1", basePort + 2 + i);
    workerConfig.admin = new build.rex.server.AdminEndpoint("127.0.0.1", 0);
    workerConfig.storage.path = dataDir.resolve("worker-" + i).toString();
    workerConfig.storage.maxSize = ByteSize.ofBytes(casBytes);
    workerConfig.storage.fsync = false;
    workerConfig.storage.recheckInputsAfterSeconds = 0; // the strict setting: every input checked on every use
    workerConfig.cluster.workerId = "worker-" + i;
    workerConfig.cluster.schedulers.addresses = List.of("127.0.0.1:" + internalPort());
    workerConfig.cluster.tls = certificates.internalTls();
    workerConfig.cluster.schedulers.refreshSeconds = 1;
    workerConfig.cluster.rereplicationDelaySeconds = 1;
    workerConfig.cluster.drainOnShutdown = "actions";
    workerConfig.cluster.shutdownGraceSeconds = 0;
    workerConfig.execution.enabled = executorsPerWorker > 0;
    WorkerConfig.ExecutorPool pool = new WorkerConfig.ExecutorPool();
    pool.count = Math.max(1, executorsPerWorker);
    pool.properties = java.util.Map.of("OSFamily", "linux", "cpu", "2", "pool", "default");
    workerConfig.execution.executors = List.of(pool);
    customizeWorkers.accept(workerConfig);
    workerConfig.validate();
    return new WorkerServer(workerConfig);
  }

  /** Waits until {@code count} workers have registered with the scheduler. */
  void awaitRegistered(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (scheduler.registry().size() != count || scheduler.registry().executors() < count * executorsPerWorker) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(scheduler.registry().size() + " of " + count + " workers registered");
      }
      Thread.sleep(20);
    }
  }

  /** The CAs and certificates of this stack (internal mTLS; public ones for tests that turn TLS on). */
  LocalCertificates certificates() {
    return certificates;
  }

  /** A channel to a worker or the internal port, with the cluster's own certificate. */
  ManagedChannel internalChannel(int port) throws java.io.IOException {
    return PeerChannels.openInternal("127.0.0.1:" + port, certificates.internalTls());
  }

  void restart() throws Exception {
    close();
    start();
  }

  @Override
  public void close() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    for (WorkerServer w : workers) {
      w.close();
    }
    scheduler.close();
  }
}
