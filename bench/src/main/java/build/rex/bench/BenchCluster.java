package build.rex.bench;

import build.rex.scheduler.SchedulerConfig;
import build.rex.scheduler.SchedulerServer;
import build.rex.config.ByteSize;
import build.rex.config.Endpoint;
import build.rex.server.GrpcServerFactory;
import build.rex.worker.WorkerConfig;
import build.rex.worker.WorkerServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.List;

/** A scheduler and workers with their default settings, on loopback, storing under a folder. */
final class BenchCluster implements AutoCloseable {
  final List<WorkerServer> workers = new java.util.ArrayList<>();
  final WorkerServer worker;
  final SchedulerServer scheduler;
  final ManagedChannel channel;
  /** Straight to the first worker, to show what the scheduler hop costs. */
  final ManagedChannel workerChannel;

  BenchCluster(Path dataDir, long casBytes, boolean fsync) throws Exception {
    this(dataDir, casBytes, fsync, 1, 1, 0, false);
  }

  BenchCluster(Path dataDir, long casBytes, boolean fsync, int executors, boolean sandbox) throws Exception {
    this(dataDir, casBytes, fsync, 1, 1, executors, sandbox);
  }

  /**
   * {@code workerCount} workers keeping {@code replicas} copies of each blob; with
   * {@code executors} above 0, each runs actions with that many executors.
   */
  BenchCluster(Path dataDir, long casBytes, boolean fsync, int workerCount, int replicas, int executors,
      boolean sandbox) throws Exception {
    // Clients in plaintext as on loopback; the cluster's own traffic with mutual TLS, as in production.
    build.rex.server.security.LocalCertificates certificates =
        build.rex.server.security.LocalCertificates.inFolder(dataDir.resolve("tls"));
    SchedulerConfig schedulerConfig = new SchedulerConfig();
    schedulerConfig.grpc = new Endpoint("127.0.0.1", 0);
    schedulerConfig.tls.mode = "plaintext";
    schedulerConfig.auth.anonymous = List.of("read", "write", "execute");
    schedulerConfig.cluster.grpc = new Endpoint("127.0.0.1", 0);
    schedulerConfig.cluster.tls = certificates.internalTls();
    schedulerConfig.admin = new build.rex.server.AdminEndpoint("127.0.0.1", 0);
    schedulerConfig.cas.replicas = replicas;
    schedulerConfig.logLevel = "warn";
    scheduler = new SchedulerServer(schedulerConfig);
    for (int i = 0; i < workerCount; i++) {
      WorkerConfig workerConfig = new WorkerConfig();
      workerConfig.grpc = new Endpoint("127.0.0.1", 0);
      workerConfig.admin = new build.rex.server.AdminEndpoint("127.0.0.1", 0);
      workerConfig.storage.path = dataDir.resolve("worker-" + i).toString();
      workerConfig.storage.maxSize = ByteSize.ofBytes(casBytes);
      workerConfig.storage.fsync = fsync;
      workerConfig.cluster.workerId = "bench-worker-" + i;
      workerConfig.cluster.schedulers.addresses = List.of("127.0.0.1:" + scheduler.internalPort());
      workerConfig.cluster.tls = certificates.internalTls();
      workerConfig.cluster.drainOnShutdown = "actions";
      workerConfig.cluster.replicationBandwidth = ByteSize.ofBytes(0);
      workerConfig.cluster.rereplicationDelaySeconds = 0;
      workerConfig.execution.enabled = executors > 0;
      workerConfig.execution.executors.get(0).count = Math.max(1, executors);
      workerConfig.execution.sandbox.enabled = sandbox;
      workerConfig.logLevel = "warn";
      workers.add(new WorkerServer(workerConfig));
    }
    worker = workers.get(0);
    long deadline = System.nanoTime() + 30_000_000_000L;
    while ((scheduler.registry().size() < workerCount || scheduler.registry().executors() < executors * workerCount)
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    channel = channelTo(scheduler.grpcPort());
    workerChannel = build.rex.server.PeerChannels.openInternal("127.0.0.1:" + worker.grpcPort(),
        certificates.internalTls());
  }

  static ManagedChannel channelTo(int port) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
        .maxInboundMessageSize(16 << 20)
        .flowControlWindow(GrpcServerFactory.FLOW_CONTROL_WINDOW_BYTES).build();
  }

  @Override
  public void close() throws Exception {
    channel.shutdownNow();
    workerChannel.shutdownNow();
    for (WorkerServer w : workers) {
      w.close();
    }
    scheduler.close();
  }
}
