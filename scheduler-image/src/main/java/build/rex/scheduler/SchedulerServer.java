package build.rex.scheduler;

import build.rex.server.DaemonThreads;
import build.rex.server.GrpcServerFactory;
import build.rex.server.ServerProcess;
import build.rex.storage.BlobStore;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.CompletenessCheckingActionCache;
import build.rex.storage.ac.InMemoryActionCache;
import build.rex.storage.remote.GrpcActionCache;
import build.rex.storage.remote.GrpcBlobStore;
import build.rex.storage.service.ActionCacheService;
import build.rex.storage.service.ByteStreamService;
import build.rex.storage.service.CasService;
import build.rex.storage.service.CasSettings;
import build.rex.storage.sharding.ShardingActionCache;
import build.rex.storage.sharding.ShardingBlobStore;
import build.rex.scheduler.execution.Dispatcher;
import build.rex.scheduler.execution.ExecutionService;
import build.rex.scheduler.execution.OperationsService;
import build.rex.scheduler.execution.PlatformMatcher;
import build.rex.scheduler.execution.WorkerConnectionService;
import com.google.protobuf.util.Durations;
import io.grpc.ManagedChannel;
import io.micrometer.core.instrument.Gauge;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A running scheduler: the REAPI front door. CAS and Action Cache calls go to the workers'
 * storage, spread over them by rendezvous hashing; Action Cache hits are served from memory
 * when possible and only when every blob they refer to is still in the CAS. Execute queues
 * actions for the workers' executors, which connect to it over the worker protocol.
 */
public final class SchedulerServer extends ServerProcess {
  private final Dispatcher dispatcher;

  public SchedulerServer(SchedulerConfig config) throws IOException {
    Map<String, BlobStore> casShards = new LinkedHashMap<>();
    Map<String, ActionCache> acShards = new LinkedHashMap<>();
    for (String worker : config.workers) {
      ManagedChannel channel = NettyChannelBuilder.forTarget(worker)
          .usePlaintext()
          .maxInboundMessageSize(GrpcServerFactory.MAX_INBOUND_MESSAGE_BYTES)
          .flowControlWindow(GrpcServerFactory.FLOW_CONTROL_WINDOW_BYTES)
          .keepAliveTime(30, TimeUnit.SECONDS)
          .build();
      closeOnStop(channel::shutdownNow);
      casShards.put(worker, new GrpcBlobStore(channel, worker));
      acShards.put(worker, new GrpcActionCache(channel));
    }
    BlobStore cas = new ShardingBlobStore(casShards);
    ActionCache actionCache = new CompletenessCheckingActionCache(
        new InMemoryActionCache(new ShardingActionCache(acShards), config.actionCache.memoryEntries), cas);
    Dispatcher.ExecutionSettings executionSettings = new Dispatcher.ExecutionSettings(
        Durations.fromSeconds(config.execution.defaultTimeoutSeconds),
        Durations.fromSeconds(config.execution.maxTimeoutSeconds),
        config.execution.maxAttempts,
        Duration.ofSeconds(config.execution.workerLostAfterSeconds),
        Duration.ofSeconds(config.execution.finishedRetentionSeconds));
    dispatcher = new Dispatcher(new PlatformMatcher(Set.copyOf(config.execution.numericProperties),
        Set.copyOf(config.execution.ignoredProperties)), executionSettings);
    ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("dispatcher-sweep"));
    sweeper.scheduleAtFixedRate(dispatcher::sweep, 1, 1, TimeUnit.SECONDS);
    closeOnStop(sweeper::shutdownNow);
    onDrain(dispatcher::disconnectWorkers);
    ExecutorService resultWriters = Executors.newCachedThreadPool(DaemonThreads.named("result-writer"));
    closeOnStop(resultWriters::shutdown);
    Gauge.builder("rex.execution.queued", dispatcher, Dispatcher::queued).register(metrics);
    Gauge.builder("rex.executors.connected", dispatcher, Dispatcher::connectedExecutors).register(metrics);
    CasSettings casSettings = new CasSettings(config.cas.maxBatchTotalSize.bytes(), CasSettings.DEFAULTS.maxTreePageSize());
    serve(config.grpc, config.admin, List.of(
        new CapabilitiesService(casSettings.maxBatchTotalSizeBytes(), config.actionCache.allowClientUpdates),
        new CasService(cas, casSettings),
        closeOnStop(new ByteStreamService(cas, Duration.ofSeconds(config.cas.uploadIdleTimeoutSeconds))),
        new ActionCacheService(actionCache, cas, config.actionCache.allowClientUpdates, metrics),
        new ExecutionService(cas, actionCache, dispatcher, executionSettings),
        new OperationsService(dispatcher),
        new WorkerConnectionService(dispatcher, actionCache, resultWriters)));
  }

  /** The queue and the connected executors. */
  public Dispatcher dispatcher() {
    return dispatcher;
  }
}
