package build.rex.scheduler.ui;

import java.util.ArrayDeque;
import java.util.function.LongSupplier;

/**
 * Action Cache hits and lookups over the last minutes, from the running totals: sampled every
 * few seconds, the window's figures are the newest sample minus the oldest one kept.
 */
final class CacheWindow {
  private record Sample(long hits, long lookups) {}

  private final LongSupplier hits;
  private final LongSupplier lookups;
  private final int samplesKept;
  private final ArrayDeque<Sample> samples = new ArrayDeque<>();

  /** @param samplesKept how many samples span the window (window = samples x sampling interval) */
  CacheWindow(LongSupplier hits, LongSupplier lookups, int samplesKept) {
    this.hits = hits;
    this.lookups = lookups;
    this.samplesKept = samplesKept;
    sample();
  }

  synchronized void sample() {
    samples.addLast(new Sample(hits.getAsLong(), lookups.getAsLong()));
    while (samples.size() > samplesKept + 1) {
      samples.removeFirst();
    }
  }

  /** {hits, lookups} since the oldest sample kept, up to now. */
  synchronized long[] figures() {
    Sample oldest = samples.getFirst();
    return new long[] {hits.getAsLong() - oldest.hits(), lookups.getAsLong() - oldest.lookups()};
  }
}
