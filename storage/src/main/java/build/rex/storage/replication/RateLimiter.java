package build.rex.storage.replication;

/**
 * A token bucket in bytes per second, shared by every copy a process makes in the background,
 * so that repairs and re-replication never take the bandwidth builds need.
 */
public final class RateLimiter {
  private final double bytesPerSecond;
  private final double burst;
  private double available;
  private long lastNanos = System.nanoTime();

  /** @param bytesPerSecond 0 or less means unlimited */
  public RateLimiter(long bytesPerSecond) {
    this.bytesPerSecond = bytesPerSecond;
    this.burst = Math.max(bytesPerSecond, 1 << 20);
    this.available = burst;
  }

  public static RateLimiter unlimited() {
    return new RateLimiter(0);
  }

  /** Waits until {@code bytes} may be sent. */
  public void acquire(long bytes) throws InterruptedException {
    if (bytesPerSecond <= 0) {
      return;
    }
    long waitNanos;
    synchronized (this) {
      long now = System.nanoTime();
      available = Math.min(burst, available + (now - lastNanos) / 1e9 * bytesPerSecond);
      lastNanos = now;
      available -= bytes;
      waitNanos = available >= 0 ? 0 : (long) (-available / bytesPerSecond * 1e9);
    }
    if (waitNanos > 0) {
      java.util.concurrent.TimeUnit.NANOSECONDS.sleep(waitNanos);
    }
  }
}
