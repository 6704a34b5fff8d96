package build.rex.storage.backup;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.ForwardingBlobWriter;
import build.rex.storage.Digests;
import build.rex.storage.replication.BlobCopier;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A primary store (the cluster) with a backup behind it (object storage). Every blob written
 * is copied to the backup in the background; a blob the primary lacks but the backup has is
 * restored into the primary before it is reported present or read, so "present" always means
 * present in the cluster. A full cluster restart, even on empty disks, loses nothing that
 * reached the backup.
 */
public final class BackedUpBlobStore implements BlobStore, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BackedUpBlobStore.class);
  private final BlobStore primary;
  private final BlobStore backup;
  private final BlobCopier copier;
  private final ExecutorService uploads;
  private final AtomicLong backedUp = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong restored = new AtomicLong();

  public BackedUpBlobStore(BlobStore primary, BlobStore backup, BlobCopier copier, int threads, int queueLength) {
    this.primary = primary;
    this.backup = backup;
    this.copier = copier;
    this.uploads = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(queueLength),
        build.rex.storage.DaemonThreads.named("backup-upload"));
  }

  private void backUp(Digest digest) {
    try {
      uploads.execute(() -> {
        try {
          copier.copy(digest, primary, backup);
          backedUp.incrementAndGet();
        } catch (IOException | RuntimeException e) {
          dropped.incrementAndGet();
          log.warn("could not back up {}: {}", Digests.toString(digest), e.toString());
        }
      });
    } catch (RejectedExecutionException full) {
      dropped.incrementAndGet();
    }
  }

  /** Copies blobs the backup has into the primary; returns those that arrived. */
  private Set<Digest> restore(Collection<Digest> digests) throws IOException {
    Set<Digest> inBackup = new HashSet<>(digests);
    inBackup.removeAll(backup.findMissing(digests));
    Set<Digest> arrived = new HashSet<>();
    for (Digest digest : inBackup) {
      try {
        copier.copy(digest, backup, primary);
        arrived.add(digest);
        restored.incrementAndGet();
      } catch (BlobNotFoundException e) {
        // gone from the backup in the meantime
      }
    }
    return arrived;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    Set<Digest> missing = new HashSet<>(primary.findMissing(digests));
    if (!missing.isEmpty()) {
      missing.removeAll(restore(missing));
    }
    return missing;
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    try {
      return primary.openRead(digest, offset);
    } catch (BlobNotFoundException e) {
      if (restore(List.of(digest)).isEmpty()) {
        throw e;
      }
      return primary.openRead(digest, offset);
    }
  }

  @Override
  public BlobWriter newWriter(Digest digest) throws IOException {
    return new ForwardingBlobWriter(primary.newWriter(digest)) {
      @Override
      public void commit() throws IOException {
        inner.commit();
        backUp(digest);
      }
    };
  }

  @Override
  public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
    Map<Digest, ByteString> found = new HashMap<>(primary.getBatch(digests));
    Set<Digest> absent = new HashSet<>(digests);
    absent.removeAll(found.keySet());
    absent.removeIf(Digests::isEmpty);
    if (!absent.isEmpty() && !restore(absent).isEmpty()) {
      found.putAll(primary.getBatch(absent));
    }
    return found;
  }

  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    Map<Digest, IOException> failures = primary.putBatch(blobs);
    blobs.keySet().stream().filter(d -> !failures.containsKey(d)).forEach(this::backUp);
    return failures;
  }

  /** Blobs copied to the backup so far. */
  public long backedUp() {
    return backedUp.get();
  }

  /** Blobs that could not be backed up (queue full or backup failing). */
  public long dropped() {
    return dropped.get();
  }

  /** Blobs restored from the backup into the primary. */
  public long restored() {
    return restored.get();
  }

  /** Backups queued or running. */
  public int pending() {
    return ((ThreadPoolExecutor) uploads).getQueue().size() + ((ThreadPoolExecutor) uploads).getActiveCount();
  }

  /** Finishes the backups already queued (up to a minute), so a clean stop leaves nothing behind. */
  @Override
  public void close() {
    uploads.shutdown();
    try {
      if (!uploads.awaitTermination(60, TimeUnit.SECONDS)) {
        log.warn("stopping with {} blobs not backed up", pending());
        uploads.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      uploads.shutdownNow();
    }
  }
}
