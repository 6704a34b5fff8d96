package build.rex.scheduler;

import build.rex.scheduler.cluster.AdminRoutes;
import build.rex.scheduler.cluster.AdminService;
import build.rex.scheduler.cluster.SchedulerPeers;
import build.rex.scheduler.execution.Dispatcher;
import build.rex.scheduler.execution.ExecutionMetrics;
import build.rex.scheduler.execution.ExecutionService;
import build.rex.scheduler.execution.ExecutionTracing;
import build.rex.scheduler.execution.OperationWatchdog;
import build.rex.scheduler.execution.QueuedInputs;
import build.rex.scheduler.execution.OperationsService;
import build.rex.scheduler.execution.PlatformMatcher;
import build.rex.scheduler.execution.WorkerConnectionService;
import build.rex.scheduler.execution.WorkerRegistry;
import build.rex.scheduler.ui.UiRoutes;
import build.rex.server.GrpcPort;
import build.rex.server.PeerChannels;
import build.rex.server.PeerTraffic;
import build.rex.server.Tracing;
import build.rex.server.security.AccessPolicy;
import build.rex.server.security.AuditLog;
import build.rex.server.security.AuthInterceptor;
import build.rex.server.security.AuthenticationChain;
import build.rex.server.security.Authenticator;
import build.rex.server.security.BearerTokenAuthenticator;
import build.rex.server.security.ClientCertificateAuthenticator;
import build.rex.server.security.ClientLimits;
import build.rex.server.security.JwtAuthenticator;
import build.rex.server.security.TlsCredentials;
import io.grpc.ChannelCredentials;
import java.nio.file.Path;
import java.util.ArrayList;
import build.rex.server.ServerProcess;
import build.rex.storage.BlobStore;
import build.rex.storage.DaemonThreads;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.replication.ClusterStorage;
import build.rex.storage.service.ActionCacheService;
import build.rex.storage.service.ByteStreamService;
import build.rex.storage.service.CasService;
import build.rex.storage.service.CasSettings;
import com.google.protobuf.util.Durations;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A running scheduler: the REAPI front door. CAS and Action Cache calls go to the workers'
 * storage, each blob and entry replicated on R of them by rendezvous hashing; Action Cache hits
 * are served from memory when possible and only when every blob they refer to is still in the
 * CAS. Execute queues actions for the executors of every worker, which register with every
 * scheduler (on its internal port): those connections are also the cluster's membership. The
 * client port is behind TLS and {@link AuthInterceptor}; the internal one behind mutual TLS.
 */
public final class SchedulerServer extends ServerProcess {
  private final Dispatcher dispatcher;
  private final WorkerRegistry registry;
  private final ClusterStorage storage;
  private volatile String advertised;

  public SchedulerServer(SchedulerConfig config) throws IOException {
    Tracing tracing = startTracing(config.tracing, "rex-scheduler",
        config.cluster.advertiseAddress.isEmpty() ? "scheduler" : config.cluster.advertiseAddress);
    TlsCredentials tls = closeOnStop(new TlsCredentials());
    ChannelCredentials internalCredentials = tls.internalChannel(config.cluster.tls);
    PeerChannels workerChannels = closeOnStop(new PeerChannels(internalCredentials, new PeerTraffic(metrics, "worker"),
        Tracing.clientInterceptor()));
    PeerChannels schedulerChannels = closeOnStop(
        new PeerChannels(internalCredentials, new PeerTraffic(metrics, "scheduler"), Tracing.clientInterceptor()));
    SchedulerStorage stores = closeOnStop(SchedulerStorage.open(config, workerChannels, metrics));
    storage = stores.cluster;
    BlobStore cas = stores.cas;
    ActionCache actionCache = stores.actionCache;
    Dispatcher.ExecutionSettings executionSettings = new Dispatcher.ExecutionSettings(
        Durations.fromSeconds(config.execution.defaultTimeoutSeconds),
        Durations.fromSeconds(config.execution.maxTimeoutSeconds),
        config.execution.maxAttempts,
        Duration.ofSeconds(config.execution.finishedRetentionSeconds),
        Duration.ofSeconds(config.execution.assignmentTimeoutSeconds),
        Duration.ofMillis(config.execution.retryBackoffMillis),
        Duration.ofMillis(config.execution.retryBackoffMaxMillis),
        config.execution.heldTreesMaxSize.bytes());
    SchedulerPeers peers = new SchedulerPeers(config.cluster.schedulers, () -> advertised, schedulerChannels);
    ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("sweeper"));
    closeOnStop(sweeper::shutdownNow);
    ExecutorService publisher = Executors.newCachedThreadPool(DaemonThreads.named("operation-updates"));
    closeOnStop(publisher::shutdown);
    dispatcher = new Dispatcher(new PlatformMatcher(Set.copyOf(config.execution.numericProperties),
        Set.copyOf(config.execution.ignoredProperties)), executionSettings, () -> advertised, sweeper, publisher,
        WorkerRegistry.Settings.of(config.cas.replicas, Duration.ofSeconds(config.execution.workerLostAfterSeconds)),
        stores::update, Dispatcher.Observer.both(new ExecutionMetrics(metrics), new ExecutionTracing(tracing.tracer())));
    registry = dispatcher.workers();
    OperationWatchdog watchdog = new OperationWatchdog(dispatcher, metrics);
    every(sweeper, 1, dispatcher::sweep);
    every(sweeper, 1, registry::sweep);
    every(sweeper, config.execution.watchdogSeconds, watchdog::check);
    every(sweeper, config.execution.operationUpdateSeconds, dispatcher::republish);
    onDrain(registry::disconnectAll);
    ExecutorService resultWriters = Executors.newCachedThreadPool(DaemonThreads.named("result-writer"));
    closeOnStop(resultWriters::shutdown);
    Gauge.builder("rex.execution.queued", dispatcher, Dispatcher::queued).register(metrics);
    Gauge.builder("rex.executors.connected", registry, WorkerRegistry::executors).register(metrics);
    Gauge.builder("rex.workers.connected", registry, WorkerRegistry::size).register(metrics);
    Gauge.builder("rex.executors.running", registry, WorkerRegistry::busyExecutors)
        .description("Executors of connected workers running an action for this scheduler").register(metrics);
    for (Dispatcher.Ending ending : Dispatcher.Ending.values()) {
      FunctionCounter.builder("rex.execution.attempts.ended", dispatcher, d -> d.endings(ending))
          .description("Attempts that ended without a result, by why; each is queued again or given up on")
          .tag("reason", ending.name().toLowerCase(java.util.Locale.ROOT)).register(metrics);
    }
    // Its own thread: a round of FindMissingBlobs on the workers must not hold up the sweeps above.
    ScheduledExecutorService keeper = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("queued-inputs"));
    closeOnStop(keeper::shutdownNow);
    every(keeper, config.execution.touchQueuedInputsSeconds, new QueuedInputs(dispatcher, cas)::touch);
    CasSettings casSettings = new CasSettings(config.cas.maxBatchTotalSize.bytes(), CasSettings.DEFAULTS.maxTreePageSize());
    readyWhen(registry::settled);
    ExecutionService execution = new ExecutionService(stores.checks, stores.executeLookups, dispatcher, executionSettings, peers);
    onDrain(execution::endClientStreams);
    OperationsService operations = new OperationsService(dispatcher, peers);
    serve(config.admin,
        GrpcPort.of(config.grpc, tls.publicServer(config.tls, config.auth.clientCertificates.caFile), List.of(
            new CapabilitiesService(casSettings.maxBatchTotalSizeBytes(), config.actionCache.allowClientUpdates),
            new CasService(cas, casSettings),
            closeOnStop(new ByteStreamService(cas, Duration.ofSeconds(config.cas.uploadIdleTimeoutSeconds))),
            new ActionCacheService(actionCache, cas, config.actionCache.allowClientUpdates, metrics),
            execution,
            operations), clientAuthentication(config)),
        GrpcPort.of(config.cluster.grpc, tls.internalServer(config.cluster.tls), List.of(
            execution,
            operations,
            new WorkerConnectionService(dispatcher, stores.recentResults, resultWriters),
            new AdminService(registry))));
    advertised = config.cluster.grpc.advertised(config.cluster.advertiseAddress, internalPort());
    new AdminRoutes(dispatcher).install(this::adminRoute);
    UiRoutes ui = new UiRoutes(adminServer().access(), dispatcher, cas, actionCache, peers, new UiRoutes.CacheTotals(
        () -> (long) metrics.counter("rex.action_cache.requests", "result", "hit").count(),
        () -> (long) (metrics.counter("rex.action_cache.requests", "result", "hit").count()
            + metrics.counter("rex.action_cache.requests", "result", "miss").count())));
    ui.install(adminServer());
    every(sweeper, UiRoutes.CACHE_SAMPLE_SECONDS, ui::sample);
  }

  /** Runs a periodic task; one that fails is logged and runs again next time (a timer would stop it for good). */
  private static void every(ScheduledExecutorService timer, int seconds, Runnable task) {
    timer.scheduleAtFixedRate(() -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        org.slf4j.LoggerFactory.getLogger(SchedulerServer.class).error("periodic task failed", e);
      }
    }, seconds, seconds, TimeUnit.SECONDS);
  }

  /** The gatekeeper of the client port: who is calling, may they, and are they within their limits. */
  private AuthInterceptor clientAuthentication(SchedulerConfig config) throws IOException {
    List<Authenticator> authenticators = new ArrayList<>();
    if (!config.auth.tokens.file.isEmpty()) {
      authenticators.add(new BearerTokenAuthenticator(Path.of(config.auth.tokens.file)));
    }
    if (!config.auth.jwt.jwksFile.isEmpty()) {
      authenticators.add(new JwtAuthenticator(Path.of(config.auth.jwt.jwksFile), config.auth.jwt.issuer,
          config.auth.jwt.audience, config.auth.jwt.identityClaim));
    }
    if (!config.auth.clientCertificates.caFile.isEmpty()) {
      authenticators.add(new ClientCertificateAuthenticator());
    }
    return new AuthInterceptor(new AuthenticationChain(authenticators), new AccessPolicy(config.auth),
        new ClientLimits(config.limits.executionsPerClient, config.limits.uploadBytesPerClient.bytes()),
        new AuditLog(metrics));
  }

  /** The internal port: workers, peer schedulers, admin calls. */
  public int internalPort() {
    return grpcPort(1);
  }

  /** The queue and the connected executors. */
  public Dispatcher dispatcher() {
    return dispatcher;
  }

  /** The connected workers: the cluster's membership. */
  public WorkerRegistry registry() {
    return registry;
  }

  /** The address in this scheduler's operation names. */
  public String advertisedAddress() {
    return advertised;
  }
}
