package build.rex.worker;

import build.rex.storage.BlobStore;
import build.rex.storage.ac.DiskActionCache;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import build.rex.storage.disk.Scrubber;
import build.rex.storage.verify.VerifyingBlobStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The worker's own storage, composed from its configuration in this one place: the disk CAS,
 * read only through a verifying layer (a copy that fails its check is quarantined by the disk
 * store and reads as absent), the bounded disk Action Cache, and the scrubber that rereads the
 * disk in the background.
 */
final class WorkerStorage implements AutoCloseable {
  /** The disk itself: the index, pins and blob files that exec roots link to. */
  final DiskBlobStore disk;
  /** What is served and read, by clients, peers, replication and executors: the disk, verified. */
  final BlobStore cas;
  final DiskActionCache actionCache;
  final Scrubber scrubber;

  private WorkerStorage(DiskBlobStore disk, DiskActionCache actionCache, Scrubber scrubber) {
    this.disk = disk;
    this.cas = new VerifyingBlobStore(disk, disk);
    this.actionCache = actionCache;
    this.scrubber = scrubber;
  }

  static WorkerStorage open(WorkerConfig.Storage config) throws IOException {
    Path root = Path.of(config.path);
    DiskBlobStore disk = DiskBlobStore.open(root, new DiskStoreSettings(config.maxSize.bytes(),
        config.lowWatermark, config.highWatermark, config.fsync, Duration.ofSeconds(config.minLifetimeSeconds),
        Duration.ofSeconds(config.recheckInputsAfterSeconds)));
    DiskActionCache actionCache = new DiskActionCache(root, config.actionCacheMaxSize.bytes());
    return new WorkerStorage(disk, actionCache, new Scrubber(disk, config.scrubBandwidth.bytes()).start());
  }

  void registerMetrics(MeterRegistry metrics) {
    Gauge.builder("rex.cas.size.bytes", disk, DiskBlobStore::sizeBytes).register(metrics);
    Gauge.builder("rex.cas.blobs", disk, DiskBlobStore::blobCount).register(metrics);
    Gauge.builder("rex.cas.capacity.bytes", disk, d -> d.settings().capacityBytes())
        .description("The most the CAS may hold on this worker's disk (storage.maxSize)").register(metrics);
    FunctionCounter.builder("rex.cas.evictions", disk, DiskBlobStore::evictedBlobs).register(metrics);
    FunctionCounter.builder("rex.cas.corrupt.blobs", disk, DiskBlobStore::isolatedBlobs)
        .description("Stored copies found not to match their digest (on a read or by the scrubber) and quarantined")
        .register(metrics);
    FunctionCounter.builder("rex.cas.scrubbed.bytes", scrubber, Scrubber::bytesScrubbed).register(metrics);
    FunctionCounter.builder("rex.cas.scrub.mismatches", scrubber, Scrubber::mismatches).register(metrics);
    Gauge.builder("rex.cas.scrub.last.pass.seconds", scrubber, s -> s.lastFullPassMillis() / 1000.0)
        .description("When the scrubber last finished a full pass (Unix time; 0 before the first)").register(metrics);
    Gauge.builder("rex.ac.size.bytes", actionCache, DiskActionCache::sizeBytes).register(metrics);
    Gauge.builder("rex.ac.entries", actionCache, DiskActionCache::entries).register(metrics);
    FunctionCounter.builder("rex.ac.evictions", actionCache, DiskActionCache::evictions).register(metrics);
  }

  @Override
  public void close() {
    scrubber.close();
  }
}
