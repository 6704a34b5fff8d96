package build.rex.worker.cluster;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.DaemonThreads;
import build.rex.storage.Digests;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.ActionKey;
import build.rex.storage.ac.DiskActionCache;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.transfer.Batches;
import build.rex.storage.replication.BlobCopier;
import build.rex.storage.replication.ClusterStorage;
import build.rex.storage.replication.Placement;
import build.rex.storage.replication.RateLimiter;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure every blob and Action Cache entry on this worker's disk is also on its other
 * owners. A pass walks the local index in batches, asks each owner which blobs it lacks
 * (FindMissingBlobs) and copies those, rate-limited. When membership changes, a pass that only
 * counts runs at once (so the under-replicated gauge is honest), and the copying pass waits
 * for the membership to stay changed for a while: a worker that restarts with its disk comes
 * back before anything moves. Draining runs a copying pass at once.
 */
public final class Replicator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Replicator.class);
  private static final int BATCH = 1000;
  private final String selfId;
  private final DiskBlobStore index;
  private final BlobStore cas;
  private final DiskActionCache actionCache;
  private final ClusterStorage storage;
  private final RateLimiter rate;
  private final BlobCopier copier;
  private final Duration delay;
  private final ScheduledExecutorService thread =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("replicator"));
  private final AtomicLong underReplicated = new AtomicLong();
  private final AtomicLong copies = new AtomicLong();
  private final AtomicLong passes = new AtomicLong();
  private ScheduledFuture<?> pendingCopyPass;

  /** What one pass saw and did. */
  public record PassResult(long blobsChecked, long lacking, long copied, long failed) {
    public boolean complete() {
      return lacking == copied && failed == 0;
    }
  }

  /**
   * @param index the disk store, for the list of what is held here
   * @param cas the same store as served (reads verified), which is this worker's entry in the placement
   */
  public Replicator(String selfId, DiskBlobStore index, BlobStore cas, DiskActionCache actionCache, ClusterStorage storage,
      RateLimiter rate, Duration delay) {
    this.selfId = selfId;
    this.index = index;
    this.cas = cas;
    this.actionCache = actionCache;
    this.storage = storage;
    this.rate = rate;
    this.copier = new BlobCopier(rate);
    this.delay = delay;
  }

  /** Counts at once, copies after the settling delay (a newer change restarts the wait). */
  public synchronized void membershipChanged() {
    thread.execute(() -> pass(false));
    if (pendingCopyPass != null) {
      pendingCopyPass.cancel(false);
    }
    pendingCopyPass = thread.schedule(() -> pass(true), delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A copying pass now, after whatever pass is running. */
  public CompletableFuture<PassResult> copyNow() {
    return CompletableFuture.supplyAsync(() -> pass(true), thread);
  }

  /** Blobs found lacking on an owner and not copied yet. */
  public long underReplicated() {
    return underReplicated.get();
  }

  public long copies() {
    return copies.get();
  }

  public long passes() {
    return passes.get();
  }

  private PassResult pass(boolean copy) {
    Placement<BlobStore> placement = storage.casPlacement();
    if (placement.isEmpty()) {
      return new PassResult(0, 0, 0, 0);
    }
    long started = System.nanoTime();
    long[] totals = new long[4]; // checked, lacking, copied, failed
    index.forEachBatch(BATCH, batch -> {
      PassResult part = passOverBatch(placement, batch, copy);
      totals[0] += part.blobsChecked();
      totals[1] += part.lacking();
      totals[2] += part.copied();
      totals[3] += part.failed();
    });
    PassResult entries = passOverActionCache(copy);
    PassResult result = new PassResult(totals[0] + entries.blobsChecked(), totals[1] + entries.lacking(),
        totals[2] + entries.copied(), totals[3] + entries.failed());
    underReplicated.set(result.lacking() - result.copied());
    passes.incrementAndGet();
    if (result.lacking() > 0 || copy) {
      log.info("replication pass ({}): {} blobs and entries checked, {} lacking a copy, {} copied, {} failed, in {} ms",
          copy ? "copying" : "counting", result.blobsChecked(), result.lacking(), result.copied(), result.failed(),
          (System.nanoTime() - started) / 1_000_000);
    }
    return result;
  }

  private PassResult passOverBatch(Placement<BlobStore> placement, List<Digest> batch, boolean copy) {
    Map<BlobStore, List<Digest>> byOwner = new IdentityHashMap<>();
    for (Digest digest : batch) {
      for (BlobStore owner : placement.owners(digest.getHash())) {
        if (owner != cas) {
          byOwner.computeIfAbsent(owner, o -> new ArrayList<>()).add(digest);
        }
      }
    }
    long lacking = 0;
    long copied = 0;
    long failed = 0;
    for (Map.Entry<BlobStore, List<Digest>> entry : byOwner.entrySet()) {
      Set<Digest> missing;
      try {
        missing = entry.getKey().findMissing(entry.getValue());
      } catch (IOException e) {
        failed += entry.getValue().size();
        log.debug("replication: an owner did not answer: {}", e.toString());
        continue;
      }
      lacking += missing.size();
      if (copy) {
        long done = copyTo(entry.getKey(), missing);
        copied += done;
        failed += missing.size() - done;
      }
    }
    return new PassResult(batch.size(), lacking, copied, failed);
  }

  /** Small blobs go in batch calls, large ones streamed; returns how many arrived. */
  private long copyTo(BlobStore owner, Set<Digest> missing) {
    long done = 0;
    Map<Digest, ByteString> pending = new HashMap<>();
    long pendingBytes = 0;
    for (Digest digest : missing) {
      try {
        if (Batches.streamed(digest.getSizeBytes())) {
          copier.copy(digest, cas, owner);
          done++;
          copies.incrementAndGet();
          continue;
        }
        rate.acquire(digest.getSizeBytes());
        pending.put(digest, cas.get(digest));
        pendingBytes += digest.getSizeBytes();
        if (pendingBytes >= Batches.MAX_BATCH_BYTES - Batches.STREAM_ABOVE) { // the next blob still fits
          done += flush(owner, pending);
          pendingBytes = 0;
        }
      } catch (IOException e) {
        log.debug("replication: could not copy {}: {}", Digests.toString(digest), e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return done;
      }
    }
    return done + flush(owner, pending);
  }

  private long flush(BlobStore owner, Map<Digest, ByteString> pending) {
    if (pending.isEmpty()) {
      return 0;
    }
    long stored = pending.size() - owner.putBatch(pending).size();
    copies.addAndGet(stored);
    pending.clear();
    return stored;
  }

  private PassResult passOverActionCache(boolean copy) {
    Placement<ActionCache> placement = storage.actionCachePlacement();
    long[] counts = new long[4];
    try {
      actionCache.forEachKey(key -> {
        counts[0]++;
        for (ActionCache owner : placement.owners(key.toString())) {
          if (owner == actionCache) {
            continue;
          }
          try {
            if (owner.get(key).isPresent()) {
              continue;
            }
            counts[1]++;
            Optional<ActionResult> result = actionCache.get(key);
            if (copy && result.isPresent()) {
              owner.put(key, result.get());
              counts[2]++;
            }
          } catch (IOException e) {
            counts[3]++;
          }
        }
      });
    } catch (IOException e) {
      log.warn("replication: could not list the Action Cache: {}", e.toString());
    }
    return new PassResult(counts[0], counts[1], counts[2], counts[3]);
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }

  /** For logs: the member id this replicator keeps copies for. */
  @Override
  public String toString() {
    return "Replicator(" + selfId + ")";
  }
}
