package build.rex.server.security;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one identity may hold at once: executions in flight (open Execute and WaitExecution
 * calls) and bytes of uploads in flight. A client over its share gets RESOURCE_EXHAUSTED
 * instead of slowing down everyone else or the server falling over.
 */
public final class ClientLimits {
  /** A reservation; releasing it twice has no effect. */
  public interface Lease {
    void release();
  }

  private final long maxExecutions;
  private final long maxUploadBytes;
  private final ConcurrentHashMap<String, AtomicLong> executions = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicLong> uploadBytes = new ConcurrentHashMap<>();

  public ClientLimits(long maxExecutions, long maxUploadBytes) {
    this.maxExecutions = maxExecutions;
    this.maxUploadBytes = maxUploadBytes;
  }

  /** One more execution for {@code identity}; null when it already has the most it may. */
  public Lease tryExecution(Identity identity) {
    return tryReserve(executions, identity.name(), 1, maxExecutions);
  }

  /**
   * {@code bytes} more of uploads for {@code identity}; null when they do not fit. One upload
   * larger than the whole allowance still goes through when it is the only one.
   */
  public Lease tryUpload(Identity identity, long bytes) {
    return tryReserve(uploadBytes, identity.name(), Math.max(0, bytes), maxUploadBytes);
  }

  private static Lease tryReserve(ConcurrentHashMap<String, AtomicLong> counters, String key, long amount, long max) {
    AtomicLong counter = counters.computeIfAbsent(key, k -> new AtomicLong());
    while (true) {
      long held = counter.get();
      if (held > 0 && held + amount > max) {
        return null;
      }
      if (counter.compareAndSet(held, held + amount)) {
        return new Lease() {
          private boolean released;

          @Override
          public synchronized void release() {
            if (!released) {
              released = true;
              counter.addAndGet(-amount);
            }
          }
        };
      }
    }
  }

  /** What {@code identity} holds now, for tests and metrics. */
  public long executionsHeld(Identity identity) {
    AtomicLong held = executions.get(identity.name());
    return held == null ? 0 : held.get();
  }
}
