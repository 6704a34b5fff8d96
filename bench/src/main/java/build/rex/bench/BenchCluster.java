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
    WorkerConfig workerConfig = new WorkerConfig();
    workerConfig.grpc = new Endpoint("127.0.0.1", 0);
    workerConfig.admin = new Endpoint("127.0.0.1", 0);
    workerConfig.storage.path = dataDir.toString();
    workerConfig.storage.maxSize = ByteSize.ofBytes(casBytes);
    workerConfig.storage.fsync = fsync;
    workerConfig.execution.enabled = false;
    workerConfig.logLevel = "warn";
    worker = new WorkerServer(workerConfig);
    SchedulerConfig schedulerConfig = new SchedulerConfig();
    schedulerConfig.grpc = new Endpoint("127.0.0.1", 0);
    schedulerConfig.admin = new Endpoint("127.0.0.1", 0);
    schedulerConfig.workers = List.of("127.0.0.1:" + worker.grpcPort());
    scheduler = new SchedulerServer(schedulerConfig);
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
