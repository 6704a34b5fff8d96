package build.rex.bench;

import build.rex.scheduler.SchedulerConfig;
import build.rex.scheduler.SchedulerServer;
import build.rex.server.ByteSize;
import build.rex.server.Endpoint;
import build.rex.server.GrpcServerFactory;
import build.rex.worker.WorkerConfig;
import build.rex.worker.WorkerServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.List;

/** A scheduler and a worker with their default settings, on loopback, storing under a folder. */
final class BenchCluster implements AutoCloseable {
  final WorkerServer worker;
  final SchedulerServer scheduler;
  final ManagedChannel channel;
  /** Straight to the worker, to show what the scheduler hop costs. */
  final ManagedChannel workerChannel;

  BenchCluster(Path dataDir, long casBytes, boolean fsync) throws Exception {
    this(dataDir, casBytes, fsync, 0, false);
  }

  /** With {@code executors} above 0, the worker runs actions with that many executors. */
  BenchCluster(Path dataDir, long casBytes, boolean fsync, int executors, boolean sandbox) throws Exception {
    int schedulerPort;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
      schedulerPort = probe.getLocalPort();
    }
    WorkerConfig workerConfig = new WorkerConfig();
    workerConfig.grpc = new Endpoint("127.0.0.1", 0);
    workerConfig.admin = new Endpoint("127.0.0.1", 0);
    workerConfig.storage.path = dataDir.toString();
    workerConfig.storage.maxSize = ByteSize.ofBytes(casBytes);
    workerConfig.storage.fsync = fsync;
    workerConfig.execution.enabled = executors > 0;
    workerConfig.execution.scheduler = "127.0.0.1:" + schedulerPort;
    workerConfig.execution.workerId = "bench-worker";
    workerConfig.execution.executors.get(0).count = Math.max(1, executors);
    workerConfig.execution.sandbox.enabled = sandbox;
    workerConfig.logLevel = "warn";
    worker = new WorkerServer(workerConfig);
    SchedulerConfig schedulerConfig = new SchedulerConfig();
    schedulerConfig.grpc = new Endpoint("127.0.0.1", schedulerPort);
    schedulerConfig.admin = new Endpoint("127.0.0.1", 0);
    schedulerConfig.workers = List.of("127.0.0.1:" + worker.grpcPort());
    scheduler = new SchedulerServer(schedulerConfig);
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (scheduler.dispatcher().connectedExecutors() < executors && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    channel = channelTo(scheduler.grpcPort());
    workerChannel = channelTo(worker.grpcPort());
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
    scheduler.close();
    worker.close();
  }
}
