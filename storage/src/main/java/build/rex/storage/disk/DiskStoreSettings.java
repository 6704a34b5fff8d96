package build.rex.storage.disk;

/**
 * Sizing of a disk store. Eviction starts when the stored bytes pass the high watermark and
 * stops at the low one, so it runs in batches instead of on every write.
 */
public record DiskStoreSettings(long capacityBytes, double lowWatermark, double highWatermark, boolean fsync) {

  public DiskStoreSettings {
    if (capacityBytes <= 0) {
      throw new IllegalArgumentException("capacity must be positive, got " + capacityBytes);
    }
    if (!(0 < lowWatermark && lowWatermark < highWatermark && highWatermark <= 1)) {
      throw new IllegalArgumentException("watermarks must satisfy 0 < low < high <= 1, got low="
          + lowWatermark + " high=" + highWatermark);
    }
  }

  public long lowWatermarkBytes() {
    return (long) (capacityBytes * lowWatermark);
  }

  public long highWatermarkBytes() {
    return (long) (capacityBytes * highWatermark);
  }
}
