package build.rex.storage.replication;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.Digests;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts back copies that reads found missing on an owner, in the background: a few threads, a
 * bounded queue (a repair that does not fit is dropped; the next read or the workers'
 * re-replication pass finds the gap again) and each blob at most once at a time.
 */
public final class Repairer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Repairer.class);
  private final BlobCopier copier;
  private final ExecutorService threads;
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private final AtomicLong repaired = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  public Repairer(BlobCopier copier, int threads, int queueLength) {
    this.copier = copier;
    this.threads = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(queueLength), build.rex.storage.DaemonThreads.named("cas-repair"));
  }

  /** Copies {@code digest} from {@code source} to each of {@code targets}, later. */
  public void repair(Digest digest, BlobStore source, List<BlobStore> targets) {
    if (targets.isEmpty() || !inFlight.add(digest.getHash())) {
      return;
    }
    try {
      threads.execute(() -> {
        try {
          for (BlobStore target : targets) {
            copier.copy(digest, source, target);
            repaired.incrementAndGet();
          }
        } catch (java.io.IOException | RuntimeException e) {
          failed.incrementAndGet();
          log.debug("could not repair {}: {}", Digests.toString(digest), e.toString());
        } finally {
          inFlight.remove(digest.getHash());
        }
      });
    } catch (RejectedExecutionException full) {
      inFlight.remove(digest.getHash());
    }
  }

  /** Copies made so far. */
  public long repaired() {
    return repaired.get();
  }

  public long failed() {
    return failed.get();
  }

  /** Repairs queued or running now. */
  public int pending() {
    return inFlight.size();
  }

  @Override
  public void close() {
    threads.shutdownNow();
  }
}
