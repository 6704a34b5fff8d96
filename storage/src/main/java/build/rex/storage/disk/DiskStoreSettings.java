package build.rex.storage.disk;

/**
 * Sizing of a disk store. Eviction starts when the stored bytes (with those being written) pass
 * the high watermark and stops at the low one, so it runs in batches instead of on every write.
 * Blobs written or used within {@code minLifetime} are kept unless the disk would overflow. A
 * blob used in place (linked into an exec root) is reread and checked first when its last check
 * is older than {@code recheckAfter} (zero: on every such use).
 */
public record DiskStoreSettings(long capacityBytes, double lowWatermark, double highWatermark, boolean fsync,
    java.time.Duration minLifetime, java.time.Duration recheckAfter) {

  /** Settings without a minimum lifetime (eviction strictly by last use), rechecking blobs used in place every time. */
  public DiskStoreSettings(long capacityBytes, double lowWatermark, double highWatermark, boolean fsync) {
    this(capacityBytes, lowWatermark, highWatermark, fsync, java.time.Duration.ZERO, java.time.Duration.ZERO);
  }

  public DiskStoreSettings {
    if (capacityBytes <= 0) {
      throw new IllegalArgumentException("capacity must be positive, got " + capacityBytes);
    }
    if (!(0 < lowWatermark && lowWatermark < highWatermark && highWatermark <= 1)) {
      throw new IllegalArgumentException("watermarks must satisfy 0 < low < high <= 1, got low="
          + lowWatermark + " high=" + highWatermark);
    }
    if (minLifetime.isNegative() || recheckAfter.isNegative()) {
      throw new IllegalArgumentException("durations must not be negative, got " + minLifetime + " and " + recheckAfter);
    }
  }

  public long lowWatermarkBytes() {
    return (long) (capacityBytes * lowWatermark);
  }

  public long highWatermarkBytes() {
    return (long) (capacityBytes * highWatermark);
  }
}
