package build.rex.scheduler.cluster;

import build.rex.scheduler.SchedulerConfig;
import build.rex.storage.BlobStore;
import build.rex.storage.DaemonThreads;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.backup.BackedUpActionCache;
import build.rex.storage.backup.BackedUpBlobStore;
import build.rex.storage.replication.BlobCopier;
import build.rex.storage.replication.RateLimiter;
import build.rex.storage.s3.S3ActionCache;
import build.rex.storage.s3.S3BlobStore;
import build.rex.storage.s3.S3Clients;
import build.rex.storage.s3.S3Location;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import software.amazon.awssdk.services.s3.S3Client;

/** The cluster's CAS and Action Cache with the object-storage backup of {@code backup:} behind them. */
public final class ObjectStorageBackup implements AutoCloseable {
  private static final int UPLOAD_THREADS = 4;
  private final S3Client client;
  private final ExecutorService lookups;
  private final BackedUpBlobStore cas;
  private final ActionCache actionCache;

  private ObjectStorageBackup(S3Client client, ExecutorService lookups, BackedUpBlobStore cas, ActionCache actionCache) {
    this.client = client;
    this.lookups = lookups;
    this.cas = cas;
    this.actionCache = actionCache;
  }

  public static ObjectStorageBackup open(SchedulerConfig.Backup config, BlobStore cluster, ActionCache clusterActionCache,
      MeterRegistry metrics) throws IOException {
    String accessKeyId = config.accessKeyIdFile.isEmpty() ? "" : read(config.accessKeyIdFile);
    String secret = config.secretAccessKeyFile.isEmpty() ? "" : read(config.secretAccessKeyFile);
    S3Client client = S3Clients.create(config.endpoint, config.region, config.pathStyle, accessKeyId, secret);
    S3Location location = new S3Location(client, config.bucket, config.prefix);
    ExecutorService lookups = Executors.newFixedThreadPool(32, DaemonThreads.named("backup-lookup"));
    BackedUpBlobStore cas = new BackedUpBlobStore(cluster, new S3BlobStore(location, lookups, Path.of(config.spoolPath)),
        new BlobCopier(RateLimiter.unlimited()), UPLOAD_THREADS, config.queueLength);
    Gauge.builder("rex.backup.pending", cas, BackedUpBlobStore::pending).register(metrics);
    FunctionCounter.builder("rex.backup.blobs", cas, BackedUpBlobStore::backedUp).register(metrics);
    FunctionCounter.builder("rex.backup.dropped", cas, BackedUpBlobStore::dropped).register(metrics);
    FunctionCounter.builder("rex.backup.restored", cas, BackedUpBlobStore::restored).register(metrics);
    return new ObjectStorageBackup(client, lookups, cas,
        new BackedUpActionCache(clusterActionCache, new S3ActionCache(location)));
  }

  private static String read(String file) throws IOException {
    return Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
  }

  public BackedUpBlobStore cas() {
    return cas;
  }

  public ActionCache actionCache() {
    return actionCache;
  }

  @Override
  public void close() {
    cas.close();
    lookups.shutdownNow();
    client.close();
  }
}
