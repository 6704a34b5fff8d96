package build.rex.scheduler;

import build.rex.server.ByteSize;
import build.rex.server.Endpoint;
import build.rex.worker.WorkerConfig;
import build.rex.worker.WorkerServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler and a worker in this JVM, talking real gRPC over loopback and storing on real
 * disk, for protocol tests. Restarting keeps the worker's data folder.
 */
final class LocalStack implements AutoCloseable {
  final Path dataDir;
  private final long casBytes;
  WorkerServer worker;
  SchedulerServer scheduler;
  ManagedChannel channel;

  LocalStack(Path dataDir, long casBytes) throws Exception {
    this.dataDir = dataDir;
    this.casBytes = casBytes;
    start();
  }

  private void start() throws Exception {
    WorkerConfig workerConfig = new WorkerConfig();
    workerConfig.grpc = new Endpoint("127.0.0.1", 0);
    workerConfig.admin = new Endpoint("127.0.0.1", 0);
    workerConfig.storage.path = dataDir.toString();
    workerConfig.storage.maxSize = ByteSize.ofBytes(casBytes);
    workerConfig.storage.fsync = false;
    workerConfig.validate();
    worker = new WorkerServer(workerConfig);
    SchedulerConfig schedulerConfig = new SchedulerConfig();
    schedulerConfig.grpc = new Endpoint("127.0.0.1", 0);
    schedulerConfig.admin = new Endpoint("127.0.0.1", 0);
    schedulerConfig.workers = List.of("127.0.0.1:" + worker.grpcPort());
    schedulerConfig.validate();
    scheduler = new SchedulerServer(schedulerConfig);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", scheduler.grpcPort()).usePlaintext()
        .maxInboundMessageSize(16 << 20).build();
  }

  void restart() throws Exception {
    close();
    start();
  }

  @Override
  public void close() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    scheduler.close();
    worker.close();
  }
}
