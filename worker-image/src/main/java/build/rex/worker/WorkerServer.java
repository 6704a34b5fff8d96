package build.rex.worker;

import build.rex.server.AdminServer;
import build.rex.server.GrpcMetrics;
import build.rex.server.GrpcServerFactory;
import build.rex.storage.ac.DiskActionCache;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import build.rex.storage.service.ActionCacheService;
import build.rex.storage.service.ByteStreamService;
import build.rex.storage.service.CasService;
import build.rex.storage.service.CasSettings;
import io.grpc.Server;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A running worker: its disk CAS and Action Cache, served on the internal gRPC port. */
public final class WorkerServer implements AutoCloseable {
  private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final DiskBlobStore cas;
  private final ByteStreamService byteStream;
  private final Server grpc;
  private final AdminServer admin;
  private volatile boolean ready;

  public WorkerServer(WorkerConfig config) throws IOException {
    Path root = Path.of(config.storage.path);
    cas = DiskBlobStore.open(root, new DiskStoreSettings(config.storage.maxSize.bytes(),
        config.storage.lowWatermark, config.storage.highWatermark, config.storage.fsync));
    Gauge.builder("rex.cas.size.bytes", cas, DiskBlobStore::sizeBytes).register(metrics);
    Gauge.builder("rex.cas.blobs", cas, DiskBlobStore::blobCount).register(metrics);
    FunctionCounter.builder("rex.cas.evictions", cas, DiskBlobStore::evictedBlobs).register(metrics);
    byteStream = new ByteStreamService(cas, Duration.ofMinutes(10));
    admin = new AdminServer(config.admin, metrics, () -> ready).start();
    grpc = GrpcServerFactory.start(config.grpc, List.of(
        new CasService(cas, CasSettings.DEFAULTS),
        byteStream,
        new ActionCacheService(new DiskActionCache(root), cas, true, metrics)), new GrpcMetrics(metrics));
    ready = true;
  }

  public int grpcPort() {
    return grpc.getPort();
  }

  public int adminPort() {
    return admin.port();
  }

  public DiskBlobStore cas() {
    return cas;
  }

  public void awaitTermination() throws InterruptedException {
    grpc.awaitTermination();
  }

  @Override
  public void close() throws InterruptedException {
    org.slf4j.LoggerFactory.getLogger(getClass()).info("shutting down: finishing calls in flight");
    ready = false;
    grpc.shutdown();
    if (!grpc.awaitTermination(10, TimeUnit.SECONDS)) {
      grpc.shutdownNow();
    }
    byteStream.close();
    admin.close();
  }
}
