package build.rex.storage.disk;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobCorruptException;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobTooLargeException;
import build.rex.storage.BlobWriter;
import build.rex.storage.DigestMismatchException;
import build.rex.storage.Digests;
import build.rex.storage.StorageFullException;
import build.rex.storage.ChunkedInput;
import build.rex.storage.verify.Quarantine;
import build.rex.storage.verify.VerifyingInputStream;
import java.util.function.LongSupplier;
import com.google.protobuf.ByteString;
import java.util.Map;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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
 * drives eviction between a high and a low watermark, counting the bytes being written; pinned
 * blobs are never evicted, blobs used within the minimum lifetime only when the disk would
 * otherwise overflow, and when even that cannot make room the writer is refused. Reads here are
 * not verified: compose a {@link build.rex.storage.verify.VerifyingBlobStore} on top, which
 * hands corrupt copies back to {@link #isolate}.
 */
public final class DiskBlobStore implements BlobStore, Quarantine {
  private static final Logger log = LoggerFactory.getLogger(DiskBlobStore.class);
  /** Access times on disk are refreshed at most this often per blob; they only order eviction. */
  private static final long ACCESS_TIME_PERSIST_INTERVAL_MILLIS = 3_600_000;

  private final Path blobRoot;
  private final Path tmpRoot;
  private final Path quarantineRoot;
  private final DiskStoreSettings settings;
  private final LongSupplier clock;
  private final LruIndex index = new LruIndex();
  private final AtomicLong evictedBlobs = new AtomicLong();
  private final AtomicLong isolatedBlobs = new AtomicLong();
  /** Bytes promised to writers still open: eviction makes room for them before they arrive. */
  private final AtomicLong writingBytes = new AtomicLong();
  private final Object evictionLock = new Object();
  /**
   * A blob's file changes (publish, evict, isolate) only under its hash's lock, so an eviction
   * that took a blob out of the index cannot delete the file of an upload that put it back.
   */
  private final Object[] fileLocks = new Object[64];
  /** Told of every copy isolated, after it is out of the index (to have an intact copy put back). */
  private volatile java.util.function.Consumer<Digest> onIsolated = digest -> {};
  /** Runs between taking an evicted blob out of the index and deleting its file; tests widen the window. */
  java.util.function.Consumer<String> beforeEvictedFileDeleted = key -> {};
  /** Quarantined copies kept for inspection; older ones are deleted beyond this many. */
  private static final int QUARANTINE_KEEP = 100;
  /**
   * Syncs a batch's files at once: the file system commits concurrent syncs together (one journal
   * commit for many files), about three times the rate of syncing them one after another here.
   */
  private static final java.util.concurrent.ExecutorService SYNCS = java.util.concurrent.Executors.newFixedThreadPool(
      16, build.rex.storage.DaemonThreads.named("blob-sync"));

  /**
   * With storage.fsync, a blob being written is flushed behind this often: Linux starts writing
   * dirty pages back only past its background threshold (a tenth of memory), so a large blob's
   * bytes would otherwise all wait for the sync at commit instead of going to disk while the rest arrives.
   */
  static final long FLUSH_BEHIND_BYTES = 16 << 20;
  private final AtomicLong flushesBehind = new AtomicLong();

  private DiskBlobStore(Path root, DiskStoreSettings settings, LongSupplier clock) {
    this.blobRoot = root.resolve("cas").resolve("sha256");
    this.tmpRoot = root.resolve("tmp");
    this.quarantineRoot = root.resolve("quarantine");
    this.settings = settings;
    this.clock = clock;
    java.util.Arrays.setAll(fileLocks, i -> new Object());
  }

  /** Opens (or creates) a store under {@code root} and rebuilds its index from the files there. */
  public static DiskBlobStore open(Path root, DiskStoreSettings settings) throws IOException {
    return open(root, settings, System::currentTimeMillis);
  }

  /** As {@link #open(Path, DiskStoreSettings)}, with the clock that ages blobs (milliseconds). */
  public static DiskBlobStore open(Path root, DiskStoreSettings settings, LongSupplier clock) throws IOException {
    DiskBlobStore store = new DiskBlobStore(root, settings, clock);
    store.recover();
    return store;
  }

  private Object fileLock(String hash) {
    return fileLocks[hash.hashCode() & (fileLocks.length - 1)];
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
    try {
      makeRoom(0);
    } catch (StorageFullException e) {
      log.warn("{}", e.getMessage()); // a smaller capacity than before: reads go on, writes wait for room
    }
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
    long now = clock.getAsLong();
    LruIndex.Entry entry = index.touch(hash, now);
    if (entry == null) {
      return false;
    }
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

  /**
   * As {@link #findMissing}, for blobs about to be used in place (linked into an exec root, where
   * no read checks them): a present blob whose last check is older than the settings'
   * {@code recheckAfter} is reread and checked first, and a copy that fails is isolated and
   * reported missing, so the caller fetches an intact one.
   */
  public Set<Digest> findMissingOrCorrupt(Collection<Digest> digests) {
    Set<Digest> missing = findMissing(digests);
    long checkedBefore = clock.getAsLong() - settings.recheckAfter().toMillis();
    for (Digest digest : digests) {
      if (missing.contains(digest) || Digests.isEmpty(digest)) {
        continue;
      }
      long verified = index.verifiedMillis(digest.getHash());
      if (verified >= 0 && verified <= checkedBefore && recheck(digest, bytes -> {}) != Recheck.INTACT) {
        missing.add(digest);
      }
    }
    return missing;
  }

  /** What rereading a stored copy found. */
  enum Recheck { INTACT, CORRUPT, GONE, UNREADABLE }

  /** Told of each chunk a recheck reads, e.g. to pace it. */
  interface ChunkListener {
    void read(int bytes) throws InterruptedException;
  }

  /**
   * Rereads a whole stored copy through the check, leaving its place in the eviction order alone;
   * a copy that fails is isolated.
   */
  Recheck recheck(Digest digest, ChunkListener listener) {
    try (InputStream in = VerifyingInputStream.open(digest, openUntouched(digest), 0, this)) {
      ChunkedInput chunks = (ChunkedInput) in;
      for (ByteString chunk; !(chunk = chunks.readChunk(1 << 20)).isEmpty(); ) {
        listener.read(chunk.size());
      }
      return Recheck.INTACT;
    } catch (BlobCorruptException e) {
      return Recheck.CORRUPT;
    } catch (BlobNotFoundException e) {
      return Recheck.GONE;
    } catch (IOException e) {
      log.warn("could not recheck {}: {}", Digests.toString(digest), e.toString());
      return Recheck.UNREADABLE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Recheck.UNREADABLE;
    }
  }

  /** A whole copy was read and matched: it need not be reread before use for a while. */
  @Override
  public void passed(Digest digest) {
    index.markVerified(digest.getHash(), clock.getAsLong());
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    if (Digests.isEmpty(digest)) {
      return InputStream.nullInputStream();
    }
    if (!touch(digest.getHash())) {
      throw new BlobNotFoundException(digest);
    }
    return openFile(digest, offset);
  }

  /** Opens a stored blob for a recheck, leaving its place in the eviction order alone. */
  private InputStream openUntouched(Digest digest) throws IOException {
    if (!index.contains(digest.getHash())) {
      throw new BlobNotFoundException(digest);
    }
    return openFile(digest, 0);
  }

  private InputStream openFile(Digest digest, long offset) throws IOException {
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
    makeRoom(digest.getSizeBytes());
    try {
      return new DiskWriter(digest);
    } catch (IOException | RuntimeException e) {
      writingBytes.addAndGet(-digest.getSizeBytes());
      throw asFull(e);
    }
  }

  /**
   * Takes in a file whose digest the caller computed from its bytes (an action's output, which
   * nothing writes any more) by linking it into place, so its bytes are neither copied nor hashed
   * again. The file becomes read-only. Only a file no other name links to is taken: any other may
   * be changed through that name. Returns false when the file is not taken (linked elsewhere,
   * not of the digest's size, on another file system, not this process's to change); the caller
   * then writes it as any other blob.
   */
  public boolean adopt(Digest digest, Path file) throws IOException {
    if (Digests.isEmpty(digest) || touch(digest.getHash())) {
      return true;
    }
    Map<String, Object> attributes = Files.readAttributes(file, "unix:isRegularFile,nlink,size", LinkOption.NOFOLLOW_LINKS);
    if (digest.getSizeBytes() > settings.capacityBytes() || !(Boolean) attributes.get("isRegularFile")
        || ((Number) attributes.get("nlink")).intValue() != 1 || (Long) attributes.get("size") != digest.getSizeBytes()) {
      return false;
    }
    makeRoom(digest.getSizeBytes());
    try {
      if (settings.fsync()) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
          channel.force(false);
        }
      }
      // hashed by the caller as it read the file
      enter(digest.getHash(), digest.getSizeBytes(), file, target -> {
        try {
          Files.createLink(target, file);
        } catch (FileAlreadyExistsException e) {
          // a concurrent upload of the same bytes won
        }
      });
      return true;
    } catch (FileSystemException e) {
      return false; // EXDEV, EMLINK, EPERM: the bytes go the way of any other blob
    } finally {
      writingBytes.addAndGet(-digest.getSizeBytes());
    }
  }

  /** Puts a file at the path a blob is stored under (the file holds the blob's verified bytes). */
  private interface Placing {
    void at(Path target) throws IOException;
  }

  /**
   * Makes a file of a blob's verified bytes its stored copy: read-only, put in place by
   * {@code placing} under the blob's lock, indexed as verified now.
   */
  private void enter(String hash, long size, Path file, Placing placing) throws IOException {
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
    Path target = pathOf(hash);
    try {
      // Asked first: the folder nearly always exists, and createDirectories would learn that
      // from an exception.
      if (!Files.isDirectory(target.getParent())) {
        Files.createDirectories(target.getParent());
      }
    } catch (IOException e) {
      throw asFull(e);
    }
    synchronized (fileLock(hash)) {
      placing.at(target);
      long now = clock.getAsLong();
      index.add(hash, size, now);
      index.markVerified(hash, now);
    }
  }

  /**
   * Writes many small blobs as one group: each is written and verified, then all are synced to
   * the disk at once, then all become visible; a blob that fails is reported alone.
   */
  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    Map<Digest, IOException> failures = new java.util.HashMap<>();
    Map<Digest, ByteString> group = new java.util.LinkedHashMap<>();
    for (Map.Entry<Digest, ByteString> blob : blobs.entrySet()) {
      group.put(blob.getKey(), blob.getValue());
      if (group.size() == GROUP_FILES) {
        failures.putAll(putGroup(group));
        group.clear();
      }
    }
    failures.putAll(putGroup(group));
    return failures;
  }

  /**
   * Files a batch keeps open at once: a 4 MiB batch of tiny blobs would otherwise open tens of
   * thousands (past the process's file limit); a group this size still syncs together.
   */
  private static final int GROUP_FILES = 256;

  private Map<Digest, IOException> putGroup(Map<Digest, ByteString> blobs) {
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
          discard(written.remove(digest)); // at once: a full disk may take the next blob
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
      written.values().forEach(DiskBlobStore::discard);
    }
    return failures;
  }

  private static void discard(BlobWriter writer) {
    if (writer == null) {
      return;
    }
    try {
      writer.close();
    } catch (IOException e) {
      log.debug("could not discard an unfinished upload: {}", e.toString());
    }
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

  /**
   * Reserves room for {@code incomingBytes} about to be written, evicting when the stored and
   * promised bytes pass the high watermark: oldest first down to the low watermark, sparing
   * blobs used within the minimum lifetime; those too, but only as many as needed, when the disk
   * would otherwise overflow. Pinned blobs are never evicted.
   *
   * @throws StorageFullException when even that leaves no room
   */
  private void makeRoom(long incomingBytes) throws StorageFullException {
    if (index.totalBytes() + writingBytes.get() + incomingBytes <= settings.highWatermarkBytes()) {
      writingBytes.addAndGet(incomingBytes);
      return;
    }
    synchronized (evictionLock) {
      long promised = writingBytes.get() + incomingBytes;
      long youngSince = clock.getAsLong() - settings.minLifetime().toMillis();
      List<LruIndex.Entry> evicted = new ArrayList<>(
          index.evictDownTo(settings.lowWatermarkBytes() - promised, youngSince));
      if (index.totalBytes() + promised > settings.capacityBytes()) {
        evicted.addAll(index.evictDownTo(settings.capacityBytes() - promised));
        if (!evicted.isEmpty()) {
          log.warn("CAS over capacity: evicting blobs used in the last {}; size the CAS for the builds' working set",
              settings.minLifetime());
        }
      }
      deleteFiles(evicted);
      if (index.totalBytes() + promised > settings.capacityBytes()) {
        long[] kept = index.protectedBytes(youngSince);
        throw new StorageFullException("the CAS is full: its capacity is " + settings.capacityBytes()
            + " bytes, of which " + kept[0] + " are pinned by running actions and " + (promised - incomingBytes)
            + " promised to uploads in progress; a blob of " + incomingBytes + " bytes does not fit");
      }
      writingBytes.addAndGet(incomingBytes);
    }
  }

  private void deleteFiles(List<LruIndex.Entry> evicted) {
    for (LruIndex.Entry entry : evicted) {
      beforeEvictedFileDeleted.accept(entry.key);
      synchronized (fileLock(entry.key)) {
        if (index.contains(entry.key)) {
          continue; // stored again since it was evicted: the file is the new copy
        }
        try {
          Files.deleteIfExists(pathOf(entry.key));
        } catch (IOException e) {
          log.warn("could not delete evicted blob {}: {}", entry.key, e.toString());
        }
      }
    }
    evictedBlobs.addAndGet(evicted.size());
    if (!evicted.isEmpty()) {
      log.info("evicted {} blobs; CAS now holds {} bytes", evicted.size(), index.totalBytes());
    }
  }

  /**
   * Takes a copy that failed verification out of service: out of the index (so it reads as
   * absent and replication puts an intact copy back) and into {@code quarantine/} for inspection.
   */
  @Override
  public void isolate(Digest digest, String why) {
    String key = digest.getHash();
    synchronized (fileLock(key)) {
      if (index.remove(key) == null) {
        return; // another reader found it first (and it was reported then)
      }
      isolatedBlobs.incrementAndGet();
      Path file = pathOf(key);
      Path kept = quarantineRoot.resolve(key + "." + clock.getAsLong());
      try {
        Files.createDirectories(quarantineRoot);
        Files.move(file, kept, StandardCopyOption.ATOMIC_MOVE);
        log.error("blob {} failed verification ({}): its copy at {} was moved to {}", Digests.toString(digest), why, file, kept);
      } catch (IOException e) {
        log.error("blob {} failed verification ({}): its copy at {} could not be moved ({}), deleting it",
            Digests.toString(digest), why, file, e.toString());
        try {
          Files.deleteIfExists(file);
        } catch (IOException ignored) {
          // out of the index already: it is never served again
        }
      }
    }
    pruneQuarantine();
    onIsolated.accept(digest);
  }

  /** Sets who is told of each isolated copy; it must not block (it runs on the reader's thread). */
  public void onIsolated(java.util.function.Consumer<Digest> listener) {
    this.onIsolated = listener;
  }

  private void pruneQuarantine() {
    try (var kept = Files.list(quarantineRoot)) {
      List<Path> oldestFirst = kept.sorted(Comparator.comparingLong(DiskBlobStore::lastModified)).toList();
      for (Path old : oldestFirst.subList(0, Math.max(0, oldestFirst.size() - QUARANTINE_KEEP))) {
        Files.deleteIfExists(old);
      }
    } catch (IOException e) {
      log.debug("could not prune {}: {}", quarantineRoot, e.toString());
    }
  }

  private static long lastModified(Path file) {
    try {
      return Files.getLastModifiedTime(file).toMillis();
    } catch (IOException e) {
      return 0;
    }
  }

  /** A full disk (ENOSPC) as the store's own error, so the client hears RESOURCE_EXHAUSTED. */
  private IOException asFull(Exception e) {
    if (e instanceof IOException io && String.valueOf(io.getMessage()).contains("No space left on device")) {
      return new StorageFullException("the disk under the CAS at " + blobRoot + " is full: " + io.getMessage());
    }
    if (e instanceof IOException io) {
      return io;
    }
    throw (RuntimeException) e;
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

  /** Flushes started behind large writes (storage.fsync), so the sync at commit has less to do. */
  public long flushesBehind() {
    return flushesBehind.get();
  }

  public long evictedBlobs() {
    return evictedBlobs.get();
  }

  /** Copies taken out of service because their bytes did not match their digest. */
  public long isolatedBlobs() {
    return isolatedBlobs.get();
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
    private long unflushed;
    /** The flush behind in progress, or null. */
    private java.util.concurrent.Future<?> flushing;
    private String hash;
    private boolean committed;
    private boolean released;

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
      try {
        for (java.nio.ByteBuffer buffer : data.asReadOnlyByteBufferList()) {
          hasher.update(buffer.duplicate());
          while (buffer.hasRemaining()) {
            channel.write(buffer);
          }
        }
      } catch (IOException e) {
        throw asFull(e);
      }
      written += data.size();
      unflushed += data.size();
      if (settings.fsync() && unflushed >= FLUSH_BEHIND_BYTES && (flushing == null || flushing.isDone())) {
        unflushed = 0;
        flushesBehind.incrementAndGet();
        flushing = SYNCS.submit(this::flushBehind);
      }
    }

    /** Puts what was written so far on the disk while more arrives; the sync at commit does the rest. */
    private void flushBehind() {
      try {
        channel.force(false);
      } catch (IOException e) {
        // the file was closed meanwhile, or the disk failed: the sync at commit (if any) reports it
      }
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
      try {
        if (settings.fsync()) {
          channel.force(false);
        }
        channel.close();
      } catch (IOException e) {
        throw asFull(e);
      }
    }

    /** Makes the sealed, synced blob visible: read-only, renamed into place, indexed. */
    void publish() throws IOException {
      // hashed as it arrived
      enter(hash, written, tmp, target -> {
        try {
          Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
          Files.deleteIfExists(tmp); // a concurrent upload of the same bytes won
        }
      });
      committed = true;
      release();
    }

    /** Gives back the room promised to this upload: it is indexed now, or abandoned. */
    private void release() {
      if (!released) {
        released = true;
        writingBytes.addAndGet(-digest.getSizeBytes());
      }
    }

    @Override
    public void close() throws IOException {
      release();
      if (!committed) {
        channel.close();
        Files.deleteIfExists(tmp);
      }
    }
  }
}
