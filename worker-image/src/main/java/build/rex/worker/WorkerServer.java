package build.rex.worker;

import build.rex.server.ServerProcess;
import build.rex.storage.ac.DiskActionCache;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import build.rex.storage.service.ActionCacheService;
import build.rex.storage.service.ByteStreamService;
import build.rex.storage.service.CasService;
import build.rex.storage.service.CasSettings;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A running worker: its disk CAS and Action Cache, served on the internal gRPC port. */
public final class WorkerServer extends ServerProcess {
  private final DiskBlobStore cas;

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
  }

  public DiskBlobStore cas() {
    return cas;
  }
}
