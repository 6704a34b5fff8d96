package build.rex.worker;

import build.rex.config.ByteSize;
import build.rex.server.SchedulerDiscovery;
import build.rex.server.ServerConfig;
import build.rex.config.Validated;
import build.rex.server.security.InternalTlsConfig;
import java.util.List;
import java.util.Map;

/** The worker's config file (worker.yaml). Every key has a default that works on one machine. */
public final class WorkerConfig extends ServerConfig {
  public Cluster cluster = new Cluster();
  public Storage storage = new Storage();
  public Execution execution = new Execution();

  /** The gRPC port is internal: CAS, ByteStream and Action Cache for schedulers and peers. */
  public WorkerConfig() {
    super(8981, 9091);
  }

  /** How this worker finds the schedulers and its peers, and how it keeps copies safe. */
  public static final class Cluster {
    /**
     * This worker's stable name; it decides which blobs the worker owns, so it must survive
     * restarts (a StatefulSet pod name). Empty means the host name.
     */
    public String workerId = "";
    /**
     * Mutual TLS with the internal CA on the gRPC port and on every connection to schedulers and
     * peers: nothing without a certificate from that CA can use this worker.
     */
    public InternalTlsConfig tls = new InternalTlsConfig();
    /** How schedulers and peers reach this worker's storage (host:port). Empty: the gRPC host, else this machine's address. */
    public String advertiseAddress = "";
    /** The schedulers to register with, at their internal ports: all of them. */
    public SchedulerDiscovery schedulers = new SchedulerDiscovery();
    /**
     * How long membership must stay changed before copies move, so a worker that restarts with
     * its disk (a pod restart) comes back before anyone copies its blobs.
     */
    public int rereplicationDelaySeconds = 30;
    /** Bytes per second for background copies (re-replication, repairs, drain); 0: no limit. */
    public ByteSize replicationBandwidth = ByteSize.parse("100Mi");
    /**
     * What SIGTERM does before the process stops: {@code full} drains (no new actions, running
     * ones finish, blobs handed to their other owners), {@code actions} only lets running actions
     * finish (for clusters that stop all at once, where nobody is left to take the blobs).
     */
    public String drainOnShutdown = "full";
    /** The most time SIGTERM's drain may take. */
    public int shutdownGraceSeconds = 60;
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
    /**
     * Blobs written or used this recently are not evicted unless the disk would otherwise overflow,
     * so a build's inputs and outputs outlive other builds' uploads.
     */
    public int minLifetimeSeconds = 300;
    /** Most bytes of Action Cache entries to keep; the least recently used go beyond it. */
    public ByteSize actionCacheMaxSize = ByteSize.parse("64Mi");
    /**
     * An input linked into an exec root is reread and checked first when its last check (on
     * arrival, a read or a scrub) is older than this; 0 checks every input on every use.
     */
    public int recheckInputsAfterSeconds = 60;
    /**
     * How fast the scrubber rereads stored blobs to find rot (bytes per second, each blob counted
     * as at least 64 KiB); 0 turns it off.
     */
    public ByteSize scrubBandwidth = ByteSize.parse("4Mi");
  }

  /** Running actions. */
  public static final class Execution {
    /** Run actions at all; a storage-only worker sets this to false. */
    public boolean enabled = true;
    /** Where exec roots are made; empty means {@code <storage.path>/exec}. Must be on the CAS's file system. */
    public String root = "";
    /** The executors, in pools of interchangeable ones. */
    public List<ExecutorPool> executors = List.of(new ExecutorPool());
    public Sandbox sandbox = new Sandbox();
  }

  /** Process isolation; each layer is used where the kernel allows it. */
  public static final class Sandbox {
    public boolean enabled = true;
    /** The unprivileged user actions run as when the worker runs as root. */
    public String user = "nobody";
    /** Most processes and threads one action may have at once (cgroup pids limit). */
    public int pidsLimit = 4096;
    /** Most open files per process (rlimit). */
    public int openFilesLimit = 4096;
    /** Where the cgroup file system is mounted. */
    public String cgroupRoot = "/sys/fs/cgroup";
  }

  /** {@code count} executors with the same properties. */
  public static final class ExecutorPool {
    public int count = Math.max(1, Runtime.getRuntime().availableProcessors());
    /** Platform properties offered, e.g. {OSFamily: linux, cpu: "1", memory: 1Gi, pool: default}. */
    public Map<String, String> properties = Map.of("OSFamily", "linux");
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
    Validated.require(storage.minLifetimeSeconds >= 0, "storage.minLifetimeSeconds", "must not be negative");
    Validated.require(storage.recheckInputsAfterSeconds >= 0, "storage.recheckInputsAfterSeconds", "must not be negative");
    Validated.require(storage.actionCacheMaxSize != null && storage.actionCacheMaxSize.bytes() > 0,
        "storage.actionCacheMaxSize", "must be positive");
    Validated.require(storage.scrubBandwidth != null && storage.scrubBandwidth.bytes() >= 0, "storage.scrubBandwidth",
        "must not be negative");
    Validated.require(cluster != null && cluster.schedulers != null, "cluster.schedulers", "must be set");
    cluster.schedulers.validate("cluster.schedulers");
    if (cluster.advertiseAddress != null && !cluster.advertiseAddress.isEmpty()) {
      Validated.requireHostPort(cluster.advertiseAddress, "cluster.advertiseAddress");
    }
    Validated.require(cluster.workerId != null && !cluster.workerId.contains("/"), "cluster.workerId",
        "must not contain '/'");
    Validated.require(cluster.rereplicationDelaySeconds >= 0, "cluster.rereplicationDelaySeconds", "must not be negative");
    Validated.require(cluster.replicationBandwidth != null && cluster.replicationBandwidth.bytes() >= 0,
        "cluster.replicationBandwidth", "must not be negative");
    Validated.require("full".equals(cluster.drainOnShutdown) || "actions".equals(cluster.drainOnShutdown),
        "cluster.drainOnShutdown", "must be 'full' or 'actions', got '" + cluster.drainOnShutdown + "'");
    Validated.require(cluster.shutdownGraceSeconds >= 0, "cluster.shutdownGraceSeconds", "must not be negative");
    Validated.require(execution != null, "execution", "must be set");
    Validated.require(execution.executors != null && !execution.executors.isEmpty(), "execution.executors",
        "must list at least one pool");
    for (int i = 0; i < execution.executors.size(); i++) {
      ExecutorPool pool = execution.executors.get(i);
      Validated.require(pool.count > 0, "execution.executors[" + i + "].count", "must be positive");
      Validated.require(pool.properties != null, "execution.executors[" + i + "].properties", "must be set");
    }
    Validated.require(execution.sandbox != null, "execution.sandbox", "must be set");
    Validated.require(execution.sandbox.pidsLimit > 0, "execution.sandbox.pidsLimit", "must be positive");
    Validated.require(execution.sandbox.openFilesLimit > 0, "execution.sandbox.openFilesLimit", "must be positive");
    Validated.require(cluster != null && cluster.tls != null, "cluster.tls", "must be set");
    cluster.tls.validate("cluster.tls");
  }
}
