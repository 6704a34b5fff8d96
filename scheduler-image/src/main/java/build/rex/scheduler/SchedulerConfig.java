package build.rex.scheduler;

import build.rex.server.ByteSize;
import build.rex.server.ServerConfig;
import build.rex.server.Validated;
import java.util.List;

/** The scheduler's config file (scheduler.yaml). Every key has a default that works on one machine. */
public final class SchedulerConfig extends ServerConfig {
  /** Internal gRPC addresses (host:port) of the workers that hold the CAS and Action Cache. */
  public List<String> workers = List.of("127.0.0.1:8981");
  public Cas cas = new Cas();
  public ActionCache actionCache = new ActionCache();

  /** The gRPC port is the client-facing REAPI port. */
  public SchedulerConfig() {
    super(8980, 9090);
  }

  /** Limits of the CAS services. */
  public static final class Cas {
    /** Largest batch call, advertised to clients as max_batch_total_size_bytes. */
    public ByteSize maxBatchTotalSize = ByteSize.ofBytes(4_000_000);
    /** How long an interrupted upload waits to be resumed. */
    public int uploadIdleTimeoutSeconds = 600;
  }

  /** The Action Cache front. */
  public static final class ActionCache {
    /** Entries kept in memory in front of the workers' durable copies. */
    public int memoryEntries = 100_000;
    /** Whether clients may write results with UpdateActionResult. */
    public boolean allowClientUpdates = true;
  }

  @Override
  protected void validateComponent() {
    Validated.require(workers != null && !workers.isEmpty(), "workers", "must list at least one worker");
    for (int i = 0; i < workers.size(); i++) {
      String worker = workers.get(i);
      Validated.require(worker != null && worker.matches("[^:\\s]+:\\d{1,5}"), "workers[" + i + "]",
          "must be host:port, got '" + worker + "'");
    }
    Validated.require(cas != null, "cas", "must be set");
    Validated.require(cas.maxBatchTotalSize != null && cas.maxBatchTotalSize.bytes() > 0
        && cas.maxBatchTotalSize.bytes() <= 8_000_000, "cas.maxBatchTotalSize",
        "must be between 1 byte and 8 MB (gRPC message limits), got " + cas.maxBatchTotalSize);
    Validated.require(cas.uploadIdleTimeoutSeconds > 0, "cas.uploadIdleTimeoutSeconds", "must be positive");
    Validated.require(actionCache != null, "actionCache", "must be set");
    Validated.require(actionCache.memoryEntries >= 0, "actionCache.memoryEntries", "must not be negative");
  }
}
