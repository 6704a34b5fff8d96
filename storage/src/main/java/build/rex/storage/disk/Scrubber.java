package build.rex.storage.disk;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.DaemonThreads;
import build.rex.storage.replication.RateLimiter;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Rereads every blob of a disk store in the background, at a bounded rate, so rot is found
 * before a client asks for the blob: a copy that fails is isolated exactly as a failed read
 * would isolate it (and re-replication puts an intact copy back). The pass leaves the eviction
 * order alone.
 *
 * <p>Each blob counts as at least {@link #LEAST_CHARGE} bytes against the rate: rereading a small
 * blob costs its file's opening and a random read, not its bytes. Counted by bytes alone, 4 MiB/s
 * (the default) of 200-byte blobs is 20,000 files a second, at about 8 us of CPU each here (a
 * store of 20,000 in the page cache, one pass): 16% of a core; counted so, 64 a second.
 */
public final class Scrubber implements AutoCloseable {
  /** What rereading any blob costs at least, in bytes of the rate. */
  public static final long LEAST_CHARGE = 64 << 10;
  private final DiskBlobStore store;
  private final RateLimiter rate;
  private final AtomicLong bytesScrubbed = new AtomicLong();
  private final AtomicLong bytesCharged = new AtomicLong();
  private final AtomicLong mismatches = new AtomicLong();
  private volatile long lastFullPassMillis;
  private final Thread thread;

  /** @param bytesPerSecond how fast to reread; 0 or less turns the scrubber off */
  public Scrubber(DiskBlobStore store, long bytesPerSecond) {
    this.store = store;
    this.rate = new RateLimiter(bytesPerSecond);
    this.thread = bytesPerSecond > 0 ? DaemonThreads.named("cas-scrubber").newThread(this::run) : null;
  }

  public Scrubber start() {
    if (thread != null) {
      thread.start();
    }
    return this;
  }

  private void run() {
    try {
      while (!Thread.currentThread().isInterrupted()) {
        long started = System.currentTimeMillis();
        passOnce();
        lastFullPassMillis = System.currentTimeMillis();
        if (lastFullPassMillis - started < 1_000) {
          Thread.sleep(10_000); // an (almost) empty store: no need to spin
        }
      }
    } catch (InterruptedException e) {
      // closed
    }
  }

  /** Rereads every blob stored when the pass starts; returns how many failed their check. */
  public int passOnce() throws InterruptedException {
    int[] failed = {0};
    store.forEachBatch(1_000, batch -> {
      for (Digest digest : batch) {
        if (Thread.currentThread().isInterrupted()) {
          return;
        }
        if (!check(digest)) {
          failed[0]++;
        }
      }
    });
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    return failed[0];
  }

  /** Rereads one blob at the scrubber's pace; false when its copy failed (and was isolated). */
  private boolean check(Digest digest) {
    DiskBlobStore.Recheck found = store.recheck(digest, bytes -> {
      bytesScrubbed.addAndGet(bytes);
      charge(bytes);
    });
    long shortOfLeastCharge = LEAST_CHARGE - digest.getSizeBytes();
    if (shortOfLeastCharge > 0) {
      try {
        charge(shortOfLeastCharge);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (found == DiskBlobStore.Recheck.CORRUPT) {
      mismatches.incrementAndGet();
      return false;
    }
    return true; // intact, evicted since the pass began, or unreadable (logged)
  }

  private void charge(long bytes) throws InterruptedException {
    bytesCharged.addAndGet(bytes);
    rate.acquire(bytes);
  }

  public long bytesScrubbed() {
    return bytesScrubbed.get();
  }

  /** What the passes took of the rate: the bytes reread, each blob counted as at least {@link #LEAST_CHARGE}. */
  public long bytesCharged() {
    return bytesCharged.get();
  }

  public long mismatches() {
    return mismatches.get();
  }

  /** When the last full pass ended (epoch milliseconds), 0 before the first. */
  public long lastFullPassMillis() {
    return lastFullPassMillis;
  }

  @Override
  public void close() {
    if (thread != null) {
      thread.interrupt();
    }
  }
}
