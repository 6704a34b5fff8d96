package build.rex.worker;

import build.rex.server.ServerProcess;
import build.rex.storage.ac.DiskActionCache;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import build.rex.storage.service.ActionCacheService;
import build.rex.storage.service.ByteStreamService;
import build.rex.storage.service.CasService;
import build.rex.storage.service.CasSettings;
import build.rex.server.GrpcServerFactory;
import build.rex.v1.Executor;
import build.rex.worker.execution.ExecRootsFolder;
import build.rex.worker.execution.ExecutorLayout;
import build.rex.worker.execution.SchedulerLink;
import build.rex.worker.sandbox.Sandbox;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A running worker: its disk CAS and Action Cache, served on the internal gRPC port, and its
 * executors, which take actions from the scheduler.
 */
public final class WorkerServer extends ServerProcess {
  private final DiskBlobStore cas;
  private SchedulerLink link;

  public WorkerServer(WorkerConfig config) throws IOException {
    Path root = Path.of(config.storage.path);
    cas = DiskBlobStore.open(root, new DiskStoreSettings(config.storage.maxSize.bytes(),
        config.storage.lowWatermark, config.storage.highWatermark, config.storage.fsync));
    Gauge.builder("rex.cas.size.bytes", cas, DiskBlobStore::sizeBytes).register(metrics);
    Gauge.builder("rex.cas.blobs", cas, DiskBlobStore::blobCount).register(metrics);
    FunctionCounter.builder("rex.cas.evictions", cas, DiskBlobStore::evictedBlobs).register(metrics);
    serve(config.grpc, config.admin, List.of(
        new CasService(cas, CasSettings.DEFAULTS),
        closeOnStop(new ByteStreamService(cas, Duration.ofMinutes(10))),
        new ActionCacheService(new DiskActionCache(root), cas, true, metrics)));
    if (config.execution.enabled) {
      startExecution(config, root);
    }
  }

  private void startExecution(WorkerConfig config, Path storageRoot) throws IOException {
    Path execRoots = config.execution.root.isEmpty() ? storageRoot.resolve("exec") : Path.of(config.execution.root);
    new ExecRootsFolder(execRoots).clear();
    String workerId = config.execution.workerId.isEmpty()
        ? java.net.InetAddress.getLocalHost().getHostName() + ":" + grpcPort() : config.execution.workerId;
    List<Executor> executors = ExecutorLayout.executors(config.execution.executors.stream()
        .map(pool -> Map.entry(pool.count, pool.properties)).toList());
    ManagedChannel scheduler = NettyChannelBuilder.forTarget(config.execution.scheduler).usePlaintext()
        .maxInboundMessageSize(GrpcServerFactory.MAX_INBOUND_MESSAGE_BYTES)
        .flowControlWindow(GrpcServerFactory.FLOW_CONTROL_WINDOW_BYTES)
        .build();
    closeOnStop(scheduler::shutdownNow);
    link = closeOnStop(SchedulerLink.start(
        SchedulerLink.hello(workerId, executors, config.grpc.host + ":" + grpcPort()), scheduler, cas, execRoots,
        Sandbox.probe(new Sandbox.Settings(config.execution.sandbox.enabled, config.execution.sandbox.user,
            config.execution.sandbox.pidsLimit, config.execution.sandbox.openFilesLimit,
            Path.of(config.execution.sandbox.cgroupRoot))).requireAccess(execRoots)));
    Gauge.builder("rex.executors.busy", link, SchedulerLink::busyExecutors).register(metrics);
    Gauge.builder("rex.executors", executors, List::size).register(metrics);
  }

  public DiskBlobStore cas() {
    return cas;
  }

  /**
   * Leaves the scheduler at once: it hands the running actions to other workers, and they are
   * killed here. Storage keeps serving.
   */
  public void stopExecuting() {
    if (link != null) {
      link.close();
    }
  }

  /** Executors running an action now (0 when execution is off). */
  public int busyExecutors() {
    return link == null ? 0 : link.busyExecutors();
  }
}
