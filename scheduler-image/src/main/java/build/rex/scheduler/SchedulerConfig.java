package build.rex.scheduler;

import build.rex.config.ByteSize;
import build.rex.config.Endpoint;
import build.rex.server.SchedulerDiscovery;
import build.rex.server.ServerConfig;
import build.rex.config.Validated;
import build.rex.server.security.AuthConfig;
import build.rex.server.security.InternalTlsConfig;
import build.rex.server.security.PublicTlsConfig;
import java.util.List;

/** The scheduler's config file (scheduler.yaml). Every key has a default that works on one machine. */
public final class SchedulerConfig extends ServerConfig {
  /** TLS on the client port; plaintext only when set so explicitly. */
  public PublicTlsConfig tls = new PublicTlsConfig();
  /** Who clients are and what they may do; by default no one is let in until a way to authenticate is set. */
  public AuthConfig auth = new AuthConfig();
  /** What one client identity may hold at once. */
  public Limits limits = new Limits();
  public Cluster cluster = new Cluster();
  public Cas cas = new Cas();
  public ActionCache actionCache = new ActionCache();
  public Execution execution = new Execution();
  public Backup backup = new Backup();

  /** The gRPC port is the client-facing REAPI port. */
  public SchedulerConfig() {
    super(8980, 9090);
  }

  /**
   * The other schedulers. Workers find the schedulers themselves and register with each, so no
   * scheduler keeps a list of workers.
   */
  public static final class Cluster {
    /**
     * The internal gRPC port, for workers (their streams), the other schedulers (operations
     * started here) and admin calls; never exposed to clients.
     */
    public Endpoint grpc = new Endpoint("0.0.0.0", 8982);
    /** Mutual TLS on the internal port and on connections to workers and other schedulers. */
    public InternalTlsConfig tls = new InternalTlsConfig();
    /** Every scheduler's internal port, this one included: where operations started elsewhere are looked up. */
    public SchedulerDiscovery schedulers = new SchedulerDiscovery();
    /**
     * How the other schedulers reach this one's internal port (host:port), written into
     * operation names. Empty: cluster.grpc's host if it is a specific address, else this
     * machine's address, with the internal port.
     */
    public String advertiseAddress = "";
  }

  /** Per-client limits; a client beyond them gets RESOURCE_EXHAUSTED. */
  public static final class Limits {
    /** Executions one identity may have in flight (its open Execute and WaitExecution calls). */
    public int executionsPerClient = 10_000;
    /** Bytes of uploads one identity may have in flight (a single larger blob still goes through alone). */
    public ByteSize uploadBytesPerClient = ByteSize.parse("4Gi");
  }

  /** Limits of the CAS services. */
  public static final class Cas {
    /** Copies of each blob and Action Cache entry (fewer while fewer workers are up). */
    public int replicas = 2;
    /** Copies made by repairs in the background, per second (0: no limit). */
    public ByteSize repairBandwidth = ByteSize.parse("100Mi");
    /** Largest batch call, advertised to clients as max_batch_total_size_bytes. */
    public ByteSize maxBatchTotalSize = ByteSize.ofBytes(4_000_000);
    /** How long an interrupted upload waits to be resumed. */
    public int uploadIdleTimeoutSeconds = 600;
    /**
     * Small blobs written or read through this scheduler lately, kept in its memory so reading
     * them again (an Action and its Command at Execute, outputs many clients fetch) costs no call
     * to a worker (0: none kept). Blobs up to a sixteenth of it, at most 1 MiB, are kept.
     */
    public ByteSize memoryCacheSize = ByteSize.parse("16Mi");
    /**
     * How long a worker's answer that it holds a blob is trusted (0: always ask): completeness
     * checks of Action Cache hits and Execute's check of inputs just uploaded or found present
     * then cost no call to a worker; clients' FindMissingBlobs always asks. Keep it well under the
     * workers' storage.minLifetimeSeconds.
     */
    public int existenceCacheSeconds = 10;
    /** The most blobs whose presence is remembered (about 200 bytes of memory each). */
    public int existenceCacheEntries = 50_000;
  }

  /** The Action Cache front. */
  public static final class ActionCache {
    /** Entries kept in memory in front of the workers' durable copies. */
    public int memoryEntries = 100_000;
    /**
     * How long Execute takes a miss the workers answered (the client's GetActionResult just
     * before) as its own instead of asking again; 0 always asks.
     */
    public int recentMissSeconds = 10;
    /** Whether clients may write results with UpdateActionResult. */
    public boolean allowClientUpdates = true;
  }

  /**
   * Optional copy of the CAS and Action Cache in S3-compatible object storage, so that even a
   * cluster whose disks are all lost starts again with its cache. Blobs are copied in the
   * background after they are stored; entries at once. Anything the cluster lacks but the
   * bucket has is restored into the cluster when asked for.
   */
  public static final class Backup {
    public boolean enabled = false;
    /** The S3 endpoint URL; empty means AWS itself. */
    public String endpoint = "";
    public String region = "us-east-1";
    public String bucket = "";
    /** Prepended to every object key, e.g. "rex/prod/". */
    public String prefix = "";
    /** Path-style URLs (bucket in the path), which most S3-compatible servers need. */
    public boolean pathStyle = true;
    /** Files holding the access key id and secret (a mounted Secret); empty: the SDK's default chain. */
    public String accessKeyIdFile = "";
    public String secretAccessKeyFile = "";
    /** Where uploads to the bucket are staged. */
    public String spoolPath = System.getProperty("java.io.tmpdir") + "/rex-backup-spool";
    /** Blobs waiting to be backed up beyond this are dropped (and counted) rather than held in memory. */
    public int queueLength = 100_000;
  }

  /** The queue and the executors. */
  public static final class Execution {
    /** Time limit for actions that set none. */
    public int defaultTimeoutSeconds = 3600;
    /** Actions asking for more are rejected with INVALID_ARGUMENT. */
    public int maxTimeoutSeconds = 3 * 3600;
    /**
     * Attempts of one action that may end without a result (its worker lost, the assignment
     * lost, the worker unable to reach its storage) before the client gets UNAVAILABLE.
     */
    public int maxAttempts = 5;
    /** A worker silent this long is lost and its actions run elsewhere. */
    public int workerLostAfterSeconds = 10;
    /** An assignment the worker has not started within this time is given to another executor. */
    public int assignmentTimeoutSeconds = 30;
    /** The first wait before an action whose worker could not reach its storage is queued again; it doubles each time. */
    public int retryBackoffMillis = 250;
    /** The longest such wait. */
    public int retryBackoffMaxMillis = 8000;
    /**
     * Every Execute and WaitExecution stream is sent its operation again this often while it
     * is queued or running, so that load balancers that drop idle streams keep it open.
     */
    public int operationUpdateSeconds = 20;
    /**
     * Most bytes of input trees (Directory messages) unfinished actions hold in the scheduler's
     * memory to send with their assignments; beyond it, an action's worker reads its tree itself.
     */
    public ByteSize heldTreesMaxSize = ByteSize.parse("16Mi");
    /** How often the watchdog looks for operations nothing would move on. */
    public int watchdogSeconds = 5;
    /**
     * How often the inputs of queued actions are used again on the workers that hold them, so
     * that they outlive the workers' minimum lifetime (storage.minLifetimeSeconds, 300) however
     * long the actions wait; keep it well below that lifetime.
     */
    public int touchQueuedInputsSeconds = 60;
    /** How long finished operations stay visible to WaitExecution and GetOperation. */
    public int finishedRetentionSeconds = 600;
    /** Platform properties compared as quantities (an executor must offer at least as much). */
    public List<String> numericProperties = List.of("cpu", "cores", "memory");
    /**
     * Platform properties that never stop an action from running anywhere; {@code network}
     * ("allowed" lets an action reach the network) is read by the worker's sandbox.
     */
    public List<String> ignoredProperties = List.of("network");
  }

  @Override
  protected void validateComponent() {
    Validated.require(limits != null, "limits", "must be set");
    Validated.require(limits.executionsPerClient > 0, "limits.executionsPerClient", "must be positive");
    Validated.require(limits.uploadBytesPerClient != null && limits.uploadBytesPerClient.bytes() > 0,
        "limits.uploadBytesPerClient", "must be positive");
    Validated.require(cluster != null && cluster.schedulers != null, "cluster.schedulers", "must be set");
    Validated.require(cluster.grpc != null, "cluster.grpc", "must be set");
    cluster.grpc.validate("cluster.grpc");

    cluster.schedulers.validate("cluster.schedulers");
    if (cluster.advertiseAddress != null && !cluster.advertiseAddress.isEmpty()) {
      Validated.requireHostPort(cluster.advertiseAddress, "cluster.advertiseAddress");
    }
    Validated.require(cas != null, "cas", "must be set");
    Validated.require(cas.replicas >= 1 && cas.replicas <= 5, "cas.replicas", "must be from 1 to 5, got " + cas.replicas);
    Validated.require(cas.repairBandwidth != null && cas.repairBandwidth.bytes() >= 0, "cas.repairBandwidth",
        "must not be negative");
    Validated.require(cas.maxBatchTotalSize != null && cas.maxBatchTotalSize.bytes() > 0
        && cas.maxBatchTotalSize.bytes() <= 8_000_000, "cas.maxBatchTotalSize",
        "must be between 1 byte and 8 MB (gRPC message limits), got " + cas.maxBatchTotalSize);
    Validated.require(cas.uploadIdleTimeoutSeconds > 0, "cas.uploadIdleTimeoutSeconds", "must be positive");
    Validated.require(cas.memoryCacheSize != null && cas.memoryCacheSize.bytes() >= 0, "cas.memoryCacheSize",
        "must not be negative");
    Validated.require(cas.existenceCacheSeconds >= 0 && cas.existenceCacheSeconds <= 60, "cas.existenceCacheSeconds",
        "must be from 0 to 60 (workers keep blobs used within their minimum lifetime, 300 s by default), got "
            + cas.existenceCacheSeconds);
    Validated.require(cas.existenceCacheEntries > 0, "cas.existenceCacheEntries", "must be positive");
    Validated.require(actionCache != null, "actionCache", "must be set");
    Validated.require(actionCache.memoryEntries >= 0, "actionCache.memoryEntries", "must not be negative");
    Validated.require(actionCache.recentMissSeconds >= 0 && actionCache.recentMissSeconds <= 60,
        "actionCache.recentMissSeconds", "must be from 0 to 60, got " + actionCache.recentMissSeconds);
    Validated.require(backup != null, "backup", "must be set");
    if (backup.enabled) {
      Validated.require(backup.bucket != null && !backup.bucket.isEmpty(), "backup.bucket", "must be set when backup is enabled");
      Validated.require(backup.region != null && !backup.region.isEmpty(), "backup.region", "must be set");
      Validated.require(backup.endpoint.isEmpty() || backup.endpoint.matches("https?://.+"), "backup.endpoint",
          "must be an http:// or https:// URL, got '" + backup.endpoint + "'");
      Validated.require(backup.accessKeyIdFile.isEmpty() == backup.secretAccessKeyFile.isEmpty(),
          "backup.secretAccessKeyFile", "must be set together with backup.accessKeyIdFile");
      Validated.require(backup.queueLength > 0, "backup.queueLength", "must be positive");
    }
    Validated.require(execution != null, "execution", "must be set");
    Validated.require(execution.defaultTimeoutSeconds > 0, "execution.defaultTimeoutSeconds", "must be positive");
    Validated.require(execution.maxTimeoutSeconds >= execution.defaultTimeoutSeconds, "execution.maxTimeoutSeconds",
        "must be at least execution.defaultTimeoutSeconds");
    Validated.require(execution.maxAttempts > 0, "execution.maxAttempts", "must be positive");
    Validated.require(execution.workerLostAfterSeconds > 0, "execution.workerLostAfterSeconds", "must be positive");
    Validated.require(execution.assignmentTimeoutSeconds > 0, "execution.assignmentTimeoutSeconds", "must be positive");
    Validated.require(execution.retryBackoffMillis > 0, "execution.retryBackoffMillis", "must be positive");
    Validated.require(execution.retryBackoffMaxMillis >= execution.retryBackoffMillis, "execution.retryBackoffMaxMillis",
        "must be at least execution.retryBackoffMillis");
    Validated.require(execution.operationUpdateSeconds > 0, "execution.operationUpdateSeconds", "must be positive");
    Validated.require(execution.watchdogSeconds > 0, "execution.watchdogSeconds", "must be positive");
    Validated.require(execution.heldTreesMaxSize != null && execution.heldTreesMaxSize.bytes() >= 0,
        "execution.heldTreesMaxSize", "must not be negative");
    Validated.require(execution.touchQueuedInputsSeconds > 0, "execution.touchQueuedInputsSeconds", "must be positive");
    Validated.require(execution.finishedRetentionSeconds > 0, "execution.finishedRetentionSeconds", "must be positive");
    // Credentials last: they name files, and a typo elsewhere is the likelier mistake.
    Validated.require(cluster.tls != null, "cluster.tls", "must be set");
    cluster.tls.validate("cluster.tls");
    Validated.require(tls != null, "tls", "must be set");
    tls.validate("tls");
    Validated.require(auth != null, "auth", "must be set");
    auth.validate("auth");
  }
}
