package build.rex.worker;

import build.rex.server.ByteSize;
import build.rex.server.ServerConfig;
import build.rex.server.Validated;

/** The worker's config file (worker.yaml). Every key has a default that works on one machine. */
public final class WorkerConfig extends ServerConfig {
  public Storage storage = new Storage();

  /** The gRPC port is internal: CAS, ByteStream and Action Cache for schedulers and peers. */
  public WorkerConfig() {
    super(8981, 9091);
  }

  /** The CAS and Action Cache on this worker's disk. */
  public static final class Storage {
    /** Folder for blobs and Action Cache entries; in Kubernetes, the persistent volume. */
    public String path = "/var/lib/rex/worker";
    /** Most bytes of blobs to keep; older blobs are evicted beyond it. */
    public ByteSize maxSize = ByteSize.parse("10Gi");
    /** Eviction starts above this fraction of maxSize... */
    public double highWatermark = 0.9;
    /** ...and stops at this one. */
    public double lowWatermark = 0.8;
    /** Sync each blob to disk before acknowledging it. */
    public boolean fsync = true;
  }

  @Override
  protected void validateComponent() {
    Validated.require(storage != null, "storage", "must be set");
    Validated.require(storage.path != null && !storage.path.isBlank(), "storage.path", "must not be empty");
    Validated.require(storage.maxSize != null && storage.maxSize.bytes() > 0, "storage.maxSize", "must be positive");
    Validated.require(storage.highWatermark > 0 && storage.highWatermark <= 1, "storage.highWatermark",
        "must be in (0, 1], got " + storage.highWatermark);
    Validated.require(storage.lowWatermark > 0 && storage.lowWatermark < storage.highWatermark,
        "storage.lowWatermark", "must be in (0, highWatermark), got " + storage.lowWatermark);
  }
}
