package build.rex.worker;

import build.rex.server.AdminServer;
import build.rex.server.GrpcPort;
import build.rex.server.PeerChannels;
import build.rex.server.PeerTraffic;
import build.rex.server.Tracing;
import build.rex.server.security.TlsCredentials;
import io.grpc.ChannelCredentials;
import build.rex.server.ServerProcess;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.replication.ClusterStorage;
import build.rex.storage.replication.RateLimiter;
import build.rex.storage.service.ActionCacheService;
import build.rex.storage.service.ByteStreamService;
import build.rex.storage.service.CasService;
import build.rex.storage.service.CasSettings;
import build.rex.v1.Executor;
import build.rex.v1.Hello;
import build.rex.v1.StorageFigures;
import build.rex.worker.cluster.Drainer;
import build.rex.worker.cluster.MembershipView;
import build.rex.worker.cluster.Replicator;
import build.rex.worker.cluster.SchedulerLinks;
import build.rex.worker.execution.ActionRunner;
import build.rex.worker.execution.ExecRootsFolder;
import build.rex.worker.execution.ExecutorLayout;
import build.rex.worker.execution.ExecutorPool;
import build.rex.worker.sandbox.Sandbox;
import com.google.protobuf.util.JsonFormat;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running worker: its disk CAS and Action Cache, served on the internal gRPC port to the
 * schedulers and its peers; its executors; and its part in the cluster: it registers with every
 * scheduler, fetches inputs from and stores outputs on the blobs' owners directly, keeps its
 * blobs replicated on their other owners, and drains on request or on SIGTERM.
 */
public final class WorkerServer extends ServerProcess {
  private static final Logger log = LoggerFactory.getLogger(WorkerServer.class);
  private final WorkerConfig config;
  private final String workerId;
  private final WorkerStorage own;
  private final ClusterStorage storage;
  private final Replicator replicator;
  private final SchedulerLinks links;
  private final ExecutorPool pool;
  private final Drainer drainer;
  private volatile Hello hello;
  /** The sandbox the executors run actions in; null without execution. */
  private Sandbox sandbox;

  public WorkerServer(WorkerConfig config) throws IOException {
    this.config = config;
    Path root = Path.of(config.storage.path);
    own = closeOnStop(WorkerStorage.open(config.storage));
    workerId = config.cluster.workerId.isEmpty() ? InetAddress.getLocalHost().getHostName() : config.cluster.workerId;
    TlsCredentials tls = closeOnStop(new TlsCredentials());
    ChannelCredentials internalCredentials = tls.internalChannel(config.cluster.tls);
    startTracing(config.tracing, "rex-worker", workerId);
    PeerChannels peers = closeOnStop(new PeerChannels(internalCredentials, new PeerTraffic(metrics, "worker"),
        Tracing.clientInterceptor()));
    RateLimiter copyRate = new RateLimiter(config.cluster.replicationBandwidth.bytes());
    storage = closeOnStop(new ClusterStorage(peers::get, peers::retainOnly, workerId, own.cas, own.actionCache, copyRate));
    java.util.concurrent.ExecutorService restores = java.util.concurrent.Executors.newSingleThreadExecutor(
        build.rex.storage.DaemonThreads.named("restore-copy"));
    closeOnStop((AutoCloseable) restores::shutdownNow);
    // A copy found corrupt here (by a read, a recheck or the scrubber) is out of the index: asking the
    // cluster for it finds it lacking here and has the replicating layer copy an intact one back.
    own.disk.onIsolated(digest -> restores.execute(() -> {
      try {
        storage.cas().findMissing(List.of(digest));
      } catch (IOException e) {
        log.warn("could not have {} copied back after its copy here failed verification: {}", digest.getHash(), e.toString());
      }
    }));
    replicator = closeOnStop(new Replicator(workerId, own.disk, own.cas, own.actionCache, storage, copyRate,
        Duration.ofSeconds(config.cluster.rereplicationDelaySeconds)));
    serve(config.admin, GrpcPort.of(config.grpc, tls.internalServer(config.cluster.tls), List.of(
        new CasService(own.cas, CasSettings.DEFAULTS),
        closeOnStop(new ByteStreamService(own.cas, Duration.ofMinutes(10))),
        new ActionCacheService(own.actionCache, own.cas, true, metrics))));
    List<Executor> executors = List.of();
    if (config.execution.enabled) {
      executors = ExecutorLayout.executors(config.execution.executors.stream()
          .map(pool -> Map.entry(pool.count, pool.properties)).toList());
    }
    links = new SchedulerLinks(config.cluster.schedulers,
        closeOnStop(new PeerChannels(internalCredentials, new PeerTraffic(metrics, "scheduler"))),
        () -> hello);
    pool = config.execution.enabled ? closeOnStop(startExecution(config, root, executors)) : null;
    hello = Hello.newBuilder().setWorkerId(workerId).addAllExecutors(executors)
        .setStorageEndpoint(config.grpc.advertised(config.cluster.advertiseAddress, grpcPort()))
        .addAllSandboxLayers(sandbox == null ? List.of() : sandbox.availableLayers()).build();
    closeOnStop(links);
    drainer = new Drainer(workerId, pool, replicator, storage, message -> links.broadcast(null, message));
    links.start(pool, new MembershipView(storage, replicator::membershipChanged), drainer,
        () -> StorageFigures.newBuilder().setCasBytes(own.disk.sizeBytes()).setCasBlobs(own.disk.blobCount())
            .setCasCapacityBytes(own.disk.settings().capacityBytes())
            .setUnderReplicatedBlobs(replicator.underReplicated()).build());
    registerMetrics();
    adminRoute("/drain", exchange -> {
      if (exchange.getRequestMethod().equals("POST")) {
        drainer.start();
      } else if (exchange.getRequestMethod().equals("DELETE")) {
        drainer.undo();
      }
      AdminServer.respond(exchange, 200, "application/json",
          JsonFormat.printer().includingDefaultValueFields().print(drainer.status()) + "\n");
    });
  }

  /** The sandbox layers this worker's actions run in, as it tells the schedulers. */
  public List<String> sandboxLayers() {
    return hello.getSandboxLayersList();
  }

  private ExecutorPool startExecution(WorkerConfig config, Path storageRoot, List<Executor> executors) throws IOException {
    Path execRoots = config.execution.root.isEmpty() ? storageRoot.resolve("exec") : Path.of(config.execution.root);
    new ExecRootsFolder(execRoots).clear();
    sandbox = Sandbox.probe(new Sandbox.Settings(config.execution.sandbox.enabled, config.execution.sandbox.user,
        config.execution.sandbox.pidsLimit, config.execution.sandbox.openFilesLimit,
        Path.of(config.execution.sandbox.cgroupRoot), storageRoot.resolve("bin"))).requireAccess(execRoots);
    closeOnStop(sandbox);
    ActionRunner runner = new ActionRunner(workerId, storage.cas(), own.disk, execRoots, sandbox, tracing().tracer());
    return new ExecutorPool(executors, runner, storage.actionCache(), (except, message) -> links.broadcast(except, message));
  }

  private void registerMetrics() {
    own.registerMetrics(metrics);
    Gauge.builder("rex.cas.under.replicated.blobs", replicator, Replicator::underReplicated)
        .description("Blobs and Action Cache entries held here that the last replication pass found missing on"
            + " another owner and has not copied yet").register(metrics);
    FunctionCounter.builder("rex.replication.copies", replicator, Replicator::copies).register(metrics);
    FunctionCounter.builder("rex.replication.passes", replicator, Replicator::passes).register(metrics);
    Gauge.builder("rex.schedulers.connected", links, SchedulerLinks::connected).register(metrics);
    Gauge.builder("rex.worker.draining", drainer, d -> d.isDraining() ? 1 : 0).register(metrics);
    if (pool != null) {
      Gauge.builder("rex.executors.busy", pool, ExecutorPool::busyExecutors).register(metrics);
      Gauge.builder("rex.executors", pool, p -> p.executors().size()).register(metrics);
    }
  }

  public String workerId() {
    return workerId;
  }

  public DiskBlobStore cas() {
    return own.disk;
  }

  /** The disk CAS's background reader. */
  public build.rex.storage.disk.Scrubber scrubber() {
    return own.scrubber;
  }

  public Drainer drainer() {
    return drainer;
  }

  public Replicator replicator() {
    return replicator;
  }

  /**
   * Leaves every scheduler at once: they hand the running actions to other workers, and they
   * are killed here. Storage keeps serving.
   */
  public void stopExecuting() {
    links.close();
    if (pool != null) {
      pool.close();
    }
  }

  /** Executors running an action now (0 when execution is off). */
  public int busyExecutors() {
    return pool == null ? 0 : pool.busyExecutors();
  }

  /** SIGTERM: drain first (bounded by the grace period) while still serving, then stop. */
  @Override
  public void close() throws Exception {
    Duration grace = Duration.ofSeconds(config.cluster.shutdownGraceSeconds);
    try {
      boolean othersToTakeBlobs = storage.members().stream().anyMatch(m -> !m.id().equals(workerId) && !m.draining());
      if (config.cluster.drainOnShutdown.equals("full") && othersToTakeBlobs) {
        drainer.start().get(grace.toMillis(), TimeUnit.MILLISECONDS);
      } else if (pool != null) {
        pool.stopTakingWork();
        pool.awaitIdle(grace);
      }
    } catch (TimeoutException e) {
      log.warn("stopping before the drain finished ({}): {}", grace, drainer.status().getDetail());
    } catch (Exception e) {
      log.warn("drain on shutdown failed: {}", e.toString());
    }
    super.close();
  }
}
