package build.rex.storage.ac;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.Digests;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import build.rex.storage.disk.LruIndex;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Action Cache entries as files: {@code ac/<instance key>/<xx>/<hash>-<size>}, each an encoded
 * ActionResult, written to a temporary file, synced and renamed so a crash never leaves half an
 * entry. The instance key is a hash of the instance name, so any name maps to a safe directory;
 * the name itself is kept beside the entries, in {@code ac/<instance key>/instance}, so that the
 * entries can be listed with their keys (to copy them to other workers).
 *
 * <p>The entries take at most {@code maxBytes}: beyond it the least recently used go, as the CAS's
 * blobs do (an in-memory index rebuilt from the files on start orders them).
 */
public final class DiskActionCache implements ActionCache {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DiskActionCache.class);
  private final Path root;
  private final Path tmp;
  private final long maxBytes;
  private final LruIndex index = new LruIndex();
  private final java.util.concurrent.atomic.AtomicLong evictions = new java.util.concurrent.atomic.AtomicLong();

  public DiskActionCache(Path root, long maxBytes) throws IOException {
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("the Action Cache's size must be positive, got " + maxBytes);
    }
    this.root = root.resolve("ac");
    this.tmp = root.resolve("tmp");
    this.maxBytes = maxBytes;
    Files.createDirectories(this.root);
    Files.createDirectories(tmp);
    rebuildIndex();
  }

  private void rebuildIndex() throws IOException {
    List<LruIndex.Entry> found = new ArrayList<>();
    try (var files = Files.walk(root, 3)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        if (file.getNameCount() - root.getNameCount() == 3 && Files.isRegularFile(file)) {
          var attrs = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
          found.add(new LruIndex.Entry(root.relativize(file).toString(), attrs.size(), attrs.lastModifiedTime().toMillis()));
        }
      }
    }
    found.sort(java.util.Comparator.comparingLong(e -> e.persistedAccessMillis));
    found.forEach(e -> index.add(e.key, e.size, e.persistedAccessMillis));
    evictBeyondMax();
  }

  private static final String INSTANCE_FILE = "instance";

  private Path instanceDir(String instanceName) {
    return root.resolve(Digests.of(ByteString.copyFrom(instanceName, StandardCharsets.UTF_8)).getHash().substring(0, 16));
  }

  private Path pathOf(ActionKey key) {
    String hash = key.actionDigest().getHash();
    return instanceDir(key.instanceName()).resolve(hash.substring(0, 2))
        .resolve(hash + "-" + key.actionDigest().getSizeBytes());
  }

  /** Every entry's key; entries whose instance is unknown (no name file) are left out. */
  public void forEachKey(java.util.function.Consumer<ActionKey> action) throws IOException {
    try (var instances = Files.newDirectoryStream(root)) {
      for (Path instance : instances) {
        Path nameFile = instance.resolve(INSTANCE_FILE);
        if (!Files.isRegularFile(nameFile)) {
          continue;
        }
        String name = Files.readString(nameFile, StandardCharsets.UTF_8);
        try (var files = Files.walk(instance, 2)) {
          files.filter(f -> f.getNameCount() - instance.getNameCount() == 2 && Files.isRegularFile(f))
              .map(f -> f.getFileName().toString())
              .filter(n -> n.matches("[0-9a-f]{64}-\\d+"))
              .forEach(n -> action.accept(new ActionKey(name, Digest.newBuilder()
                  .setHash(n.substring(0, 64)).setSizeBytes(Long.parseLong(n.substring(65))).build())));
        }
      }
    }
  }

  @Override
  public Optional<ActionResult> get(ActionKey key) throws IOException {
    Path file = pathOf(key);
    try {
      Optional<ActionResult> result = Optional.of(ActionResult.parseFrom(Files.readAllBytes(file)));
      index.touch(root.relativize(file).toString(), System.currentTimeMillis());
      return result;
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  @Override
  public void put(ActionKey key, ActionResult result) throws IOException {
    Path target = pathOf(key);
    if (!Files.isDirectory(target.getParent())) {
      Files.createDirectories(target.getParent());
      Path nameFile = instanceDir(key.instanceName()).resolve(INSTANCE_FILE);
      if (!Files.exists(nameFile)) {
        Path staging = tmp.resolve("instance." + UUID.randomUUID());
        Files.writeString(staging, key.instanceName(), StandardCharsets.UTF_8);
        Files.move(staging, nameFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Path staging = tmp.resolve("ac." + UUID.randomUUID());
    try (FileChannel channel = FileChannel.open(staging, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      channel.write(result.toByteString().asReadOnlyByteBuffer());
      channel.force(false);
    }
    String entry = root.relativize(target).toString();
    synchronized (index) {
      Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      index.remove(entry); // a replaced entry counts with its new size
      index.add(entry, result.getSerializedSize(), System.currentTimeMillis());
    }
    evictBeyondMax();
  }

  /** Deletes least recently used entries once the entries take more than maxBytes, down to 90% of it. */
  private void evictBeyondMax() {
    if (index.totalBytes() <= maxBytes) {
      return;
    }
    synchronized (index) {
      List<LruIndex.Entry> evicted = index.evictDownTo(maxBytes - maxBytes / 10);
      for (LruIndex.Entry entry : evicted) {
        try {
          Files.deleteIfExists(root.resolve(entry.key));
        } catch (IOException e) {
          log.warn("could not delete evicted Action Cache entry {}: {}", entry.key, e.toString());
        }
      }
      evictions.addAndGet(evicted.size());
      log.info("evicted {} Action Cache entries; {} remain in {} bytes", evicted.size(), index.size(), index.totalBytes());
    }
  }

  public long sizeBytes() {
    return index.totalBytes();
  }

  public long entries() {
    return index.size();
  }

  public long evictions() {
    return evictions.get();
  }
}
