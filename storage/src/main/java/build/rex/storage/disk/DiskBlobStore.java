package build.rex.storage.disk;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobTooLargeException;
import build.rex.storage.BlobWriter;
import build.rex.storage.DigestMismatchException;
import build.rex.storage.Digests;
import com.google.protobuf.ByteString;
import java.util.Map;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CAS on a local disk: one read-only file per blob under {@code cas/sha256/xx/<hash>}.
 * Uploads go to {@code tmp/} and are renamed into place once their digest is verified, so a blob
 * is either whole or invisible. An in-memory LRU index, rebuilt from the directory on start,
 * drives eviction between a high and a low watermark; pinned blobs are never evicted.
 */
public final class DiskBlobStore implements BlobStore {
  private static final Logger log = LoggerFactory.getLogger(DiskBlobStore.class);
  /** Access times on disk are refreshed at most this often per blob; they only order eviction. */
  private static final long ACCESS_TIME_PERSIST_INTERVAL_MILLIS = 3_600_000;

  private final Path blobRoot;
  private final Path tmpRoot;
  private final DiskStoreSettings settings;
  private final LruIndex index = new LruIndex();
  private final AtomicLong evictedBlobs = new AtomicLong();
  private final Object evictionLock = new Object();
  /**
   * Syncs a batch's files at once: the file system commits concurrent syncs together (one journal
   * commit for many files), about three times the rate of syncing them one after another here.
   */
  private static final java.util.concurrent.ExecutorService SYNCS = java.util.concurrent.Executors.newFixedThreadPool(
      16, build.rex.storage.DaemonThreads.named("blob-sync"));

  private DiskBlobStore(Path root, DiskStoreSettings settings) {
    this.blobRoot = root.resolve("cas").resolve("sha256");
    this.tmpRoot = root.resolve("tmp");
    this.settings = settings;
  }

  /** Opens (or creates) a store under {@code root} and rebuilds its index from the files there. */
  public static DiskBlobStore open(Path root, DiskStoreSettings settings) throws IOException {
    DiskBlobStore store = new DiskBlobStore(root, settings);
    store.recover();
    return store;
  }

  private void recover() throws IOException {
    long started = System.nanoTime();
    Files.createDirectories(blobRoot);
    Files.createDirectories(tmpRoot);
    deleteLeftoverUploads();
    List<LruIndex.Entry> found = scanBlobs();
    found.sort(Comparator.comparingLong(e -> e.persistedAccessMillis));
    for (LruIndex.Entry entry : found) {
      index.add(entry.key, entry.size, entry.persistedAccessMillis);
    }
    log.info("disk CAS at {}: {} blobs, {} bytes, index rebuilt in {} ms", blobRoot, index.size(),
        index.totalBytes(), (System.nanoTime() - started) / 1_000_000);
    evictIfAboveHighWatermark(0);
  }

  private void deleteLeftoverUploads() throws IOException {
    try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(tmpRoot)) {
      for (Path leftover : leftovers) {
        Files.deleteIfExists(leftover);
      }
    }
  }

  /** Lists the 256 fan-out directories in parallel: a million blobs take seconds, not minutes. */
  private List<LruIndex.Entry> scanBlobs() {
    return IntStream.range(0, 256).parallel()
        .mapToObj(i -> scanFanOut(blobRoot.resolve(String.format("%02x", i))))
        .flatMap(List::stream)
        .collect(java.util.stream.Collectors.toCollection(ArrayList::new));
  }

  private static List<LruIndex.Entry> scanFanOut(Path dir) {
    List<LruIndex.Entry> entries = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return entries;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path file : files) {
        BasicFileAttributes attrs = Files.readAttributes(file, BasicFileAttributes.class);
        entries.add(new LruIndex.Entry(file.getFileName().toString(), attrs.size(),
            attrs.lastModifiedTime().toMillis()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return entries;
  }

  /**
   * The file of a stored blob, e.g. to hard-link it into an exec root (it is read-only). Pin the
   * blob first so it is not evicted while in use. Not for the empty blob, which has no file.
   */
  public Path blobPath(Digest digest) {
    return pathOf(digest.getHash());
  }

  private Path pathOf(String hash) {
    // The services check digests; this is the last line before a hash becomes a file name.
    if (!Digests.isHash(hash)) {
      throw new IllegalArgumentException("not a SHA-256 hash: '" + hash + "'");
    }
    return blobRoot.resolve(hash.substring(0, 2)).resolve(hash);
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) {
    Set<Digest> missing = new HashSet<>();
    for (Digest digest : digests) {
      if (!Digests.isEmpty(digest) && !touch(digest.getHash())) {
        missing.add(digest);
      }
    }
    return missing;
  }

  /** Marks a blob as used; false when it is absent. */
  private boolean touch(String hash) {
    LruIndex.Entry entry = index.touch(hash);
    if (entry == null) {
      return false;
    }
    long now = System.currentTimeMillis();
    if (now - entry.persistedAccessMillis > ACCESS_TIME_PERSIST_INTERVAL_MILLIS) {
      entry.persistedAccessMillis = now;
      try {
        Files.setLastModifiedTime(pathOf(hash), FileTime.fromMillis(now));
      } catch (IOException e) {
        log.debug("could not refresh access time of {}: {}", hash, e.toString());
      }
    }
    return true;
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    if (Digests.isEmpty(digest)) {
      return InputStream.nullInputStream();
    }
    if (!touch(digest.getHash())) {
      throw new BlobNotFoundException(digest);
    }
    try {
      FileChannel channel = FileChannel.open(pathOf(digest.getHash()), StandardOpenOption.READ);
      channel.position(offset);
      return new FileChunkInputStream(channel);
    } catch (NoSuchFileException e) {
      throw new BlobNotFoundException(digest); // evicted between the index lookup and the open
    }
  }

  @Override
  public BlobWriter newWriter(Digest digest) throws IOException {
    if (digest.getSizeBytes() > settings.capacityBytes()) {
      throw new BlobTooLargeException(digest, settings.capacityBytes());
    }
    if (Digests.isEmpty(digest) || touch(digest.getHash())) {
      return new CompleteWriter(digest.getSizeBytes());
    }
    evictIfAboveHighWatermark(digest.getSizeBytes());
    return new DiskWriter(digest);
  }

  /**
   * Writes many small blobs as one group: each is written and verified, then all are synced to
   * the disk at once, then all become visible; a blob that fails is reported alone.
   */
  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    Map<Digest, IOException> failures = new java.util.HashMap<>();
    Map<Digest, DiskWriter> written = new java.util.LinkedHashMap<>();
    try {
      blobs.forEach((digest, data) -> {
        try {
          BlobWriter writer = newWriter(digest);
          if (writer instanceof DiskWriter disk) {
            written.put(digest, disk);
            disk.write(data);
            disk.seal();
          }
        } catch (IOException e) {
          failures.put(digest, e);
        }
      });
      Map<Digest, java.util.concurrent.Future<?>> syncs = new java.util.LinkedHashMap<>();
      written.forEach((digest, writer) -> {
        if (failures.containsKey(digest)) {
          return; // closed (and its file deleted) below
        }
        java.util.concurrent.FutureTask<Void> sync = new java.util.concurrent.FutureTask<>(() -> {
          writer.sync();
          return null;
        });
        if (settings.fsync()) {
          SYNCS.execute(sync);
        } else {
          sync.run(); // nothing to wait for on the disk: no thread hop
        }
        syncs.put(digest, sync);
      });
      syncs.forEach((digest, sync) -> {
        try {
          sync.get();
          written.get(digest).publish();
        } catch (java.util.concurrent.ExecutionException e) {
          failures.put(digest, e.getCause() instanceof IOException io ? io : new IOException(e.getCause()));
        } catch (IOException e) {
          failures.put(digest, e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          failures.put(digest, new java.io.InterruptedIOException("interrupted while syncing"));
        }
      });
    } finally {
      written.values().forEach(writer -> {
        try {
          writer.close();
        } catch (IOException e) {
          log.debug("could not discard an unfinished upload: {}", e.toString());
        }
      });
    }
    return failures;
  }

  /**
   * Keeps blobs from being evicted until the returned lease is closed, e.g. while an action runs
   * with them as inputs. Blobs may be pinned before they are stored.
   */
  public Lease pin(Collection<Digest> digests) {
    List<String> keys = digests.stream().map(Digest::getHash).distinct().toList();
    keys.forEach(index::pin);
    return () -> keys.forEach(index::unpin);
  }

  /** A set of pinned blobs; closing it unpins them. */
  public interface Lease extends AutoCloseable {
    @Override
    void close();
  }

  private void evictIfAboveHighWatermark(long incomingBytes) {
    if (index.totalBytes() + incomingBytes <= settings.highWatermarkBytes()) {
      return;
    }
    synchronized (evictionLock) {
      List<LruIndex.Entry> evicted = index.evictDownTo(settings.lowWatermarkBytes() - incomingBytes);
      for (LruIndex.Entry entry : evicted) {
        try {
          Files.deleteIfExists(pathOf(entry.key));
        } catch (IOException e) {
          log.warn("could not delete evicted blob {}: {}", entry.key, e.toString());
        }
      }
      evictedBlobs.addAndGet(evicted.size());
      if (!evicted.isEmpty()) {
        log.info("evicted {} blobs; CAS now holds {} bytes", evicted.size(), index.totalBytes());
      }
      if (index.totalBytes() + incomingBytes > settings.capacityBytes()) {
        log.warn("CAS holds {} bytes of pinned blobs, over its capacity of {}", index.totalBytes(),
            settings.capacityBytes());
      }
    }
  }

  /** Hands every stored blob to {@code batch}, {@code batchSize} at a time, without touching them. */
  public void forEachBatch(int batchSize, java.util.function.Consumer<List<Digest>> batch) {
    LruIndex.Snapshot snapshot = index.snapshot();
    List<Digest> digests = new java.util.ArrayList<>(batchSize);
    for (int i = 0; i < snapshot.keys().length; i++) {
      digests.add(Digest.newBuilder().setHash(snapshot.keys()[i]).setSizeBytes(snapshot.sizes()[i]).build());
      if (digests.size() == batchSize) {
        batch.accept(digests);
        digests = new java.util.ArrayList<>(batchSize);
      }
    }
    if (!digests.isEmpty()) {
      batch.accept(digests);
    }
  }

  public long sizeBytes() {
    return index.totalBytes();
  }

  public long blobCount() {
    return index.size();
  }

  public long evictedBlobs() {
    return evictedBlobs.get();
  }

  public DiskStoreSettings settings() {
    return settings;
  }

  /** A writer for a blob that is already stored. */
  private static final class CompleteWriter implements BlobWriter {
    private final long size;

    CompleteWriter(long size) {
      this.size = size;
    }

    @Override
    public void write(ByteString data) {}

    @Override
    public long committedSize() {
      return size;
    }

    @Override
    public boolean isComplete() {
      return true;
    }

    @Override
    public void commit() {}

    @Override
    public void close() {}
  }

  /** Streams into a temporary file, hashing as it goes; commit verifies and renames. */
  private final class DiskWriter implements BlobWriter {
    private final Digest digest;
    private final Path tmp;
    private final FileChannel channel;
    private final MessageDigest hasher = Digests.newHasher();
    private long written;
    private String hash;
    private boolean committed;

    DiskWriter(Digest digest) throws IOException {
      this.digest = digest;
      this.tmp = tmpRoot.resolve(digest.getHash() + "." + UUID.randomUUID());
      this.channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    @Override
    public void write(ByteString data) throws IOException {
      if (written + data.size() > digest.getSizeBytes()) {
        throw new DigestMismatchException(digest, "(not computed)", written + data.size());
      }
      for (java.nio.ByteBuffer buffer : data.asReadOnlyByteBufferList()) {
        hasher.update(buffer.duplicate());
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
      }
      written += data.size();
    }

    @Override
    public long committedSize() {
      return written;
    }

    @Override
    public boolean isComplete() {
      return committed || index.contains(digest.getHash());
    }

    @Override
    public void commit() throws IOException {
      if (committed) {
        return;
      }
      seal();
      sync();
      publish();
    }

    /** Checks the bytes against the digest; nothing may be written after. */
    void seal() throws IOException {
      hash = Digests.verify(digest, hasher, written);
    }

    /** Puts the bytes on the disk (storage.fsync) and closes the file. */
    void sync() throws IOException {
      if (settings.fsync()) {
        channel.force(false);
      }
      channel.close();
    }

    /** Makes the sealed, synced blob visible: read-only, renamed into place, indexed. */
    void publish() throws IOException {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r--r--r--"));
      Path target = pathOf(hash);
      Files.createDirectories(target.getParent());
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException e) {
        Files.deleteIfExists(tmp); // a concurrent upload of the same bytes won
      }
      index.add(hash, written, System.currentTimeMillis());
      committed = true;
    }

    @Override
    public void close() throws IOException {
      if (!committed) {
        channel.close();
        Files.deleteIfExists(tmp);
      }
    }
  }
}
