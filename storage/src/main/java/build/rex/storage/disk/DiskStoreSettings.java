package build.rex.storage.disk;

/**
 * Sizing of a disk store. Eviction starts when the stored bytes (with those being written) pass
 * the high watermark and stops at the low one, so it runs in batches instead of on every write.
 * Blobs written or used within {@code minLifetime} are kept unless the disk would overflow.
 */
public record DiskStoreSettings(long capacityBytes, double lowWatermark, double highWatermark, boolean fsync,
    java.time.Duration minLifetime) {

  /** Settings without a minimum lifetime: eviction strictly by last use. */
  public DiskStoreSettings(long capacityBytes, double lowWatermark, double highWatermark, boolean fsync) {
    this(capacityBytes, lowWatermark, highWatermark, fsync, java.time.Duration.ZERO);
  }

  public DiskStoreSettings {
    if (capacityBytes <= 0) {
      throw new IllegalArgumentException("capacity must be positive, got " + capacityBytes);
    }
    if (!(0 < lowWatermark && lowWatermark < highWatermark && highWatermark <= 1)) {
      throw new IllegalArgumentException("watermarks must satisfy 0 < low < high <= 1, got low="
          + lowWatermark + " high=" + highWatermark);
    }
    if (minLifetime.isNegative()) {
      throw new IllegalArgumentException("the minimum lifetime must not be negative, got " + minLifetime);
    }
  }

  public long lowWatermarkBytes() {
    return (long) (capacityBytes * lowWatermark);
  }

  public long highWatermarkBytes() {
    return (long) (capacityBytes * highWatermark);
  }
}
