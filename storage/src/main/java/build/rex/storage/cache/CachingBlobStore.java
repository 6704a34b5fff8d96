package build.rex.storage.cache;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.ForwardingBlobStore;
import build.rex.storage.ForwardingBlobWriter;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps the small blobs most recently written or read through it in memory, in front of a
 * store a network hop away. A scheduler reads back what clients just uploaded through it (an
 * Action, its Command, the input root) and serves the same small outputs to many clients; each
 * such read costs no call to a worker. Presence is never answered from memory: findMissing goes
 * below, so the workers' CAS stays the one truth of what is stored. Blobs enter only once the
 * store below has them (a write committed, a read complete), so memory holds only verified bytes.
 */
public final class CachingBlobStore extends ForwardingBlobStore {
  private final long maxBytes;
  private final long maxBlobBytes;
  private final LinkedHashMap<Digest, ByteString> recent = new LinkedHashMap<>(256, 0.75f, true);
  private long bytes;
  private long hits;
  private long misses;

  /**
   * @param maxBytes the most bytes of blobs kept (0 keeps none)
   * @param maxBlobBytes the largest blob kept; larger ones pass through
   */
  public CachingBlobStore(BlobStore inner, long maxBytes, long maxBlobBytes) {
    super(inner);
    if (maxBytes < 0 || maxBlobBytes < 0) {
      throw new IllegalArgumentException("sizes must not be negative, got " + maxBytes + " and " + maxBlobBytes);
    }
    this.maxBytes = maxBytes;
    this.maxBlobBytes = Math.min(maxBlobBytes, maxBytes);
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    if (!keeps(digest)) {
      return inner.openRead(digest, offset);
    }
    ByteString data = get(digest);
    return data.substring((int) Math.min(offset, data.size())).newInput();
  }

  @Override
  public ByteString get(Digest digest) throws IOException {
    ByteString data = lookUp(digest);
    if (data == null) {
      data = inner.get(digest);
      keep(digest, data);
    }
    return data;
  }

  @Override
  public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
    Map<Digest, ByteString> found = new HashMap<>();
    List<Digest> below = new ArrayList<>();
    for (Digest digest : digests) {
      ByteString data = lookUp(digest);
      if (data != null) {
        found.put(digest, data);
      } else {
        below.add(digest);
      }
    }
    if (!below.isEmpty()) {
      Map<Digest, ByteString> read = inner.getBatch(below);
      read.forEach(this::keep);
      found.putAll(read);
    }
    return found;
  }

  @Override
  public BlobWriter newWriter(Digest digest) throws IOException {
    BlobWriter writer = inner.newWriter(digest);
    return keeps(digest) ? new KeepingWriter(digest, writer) : writer;
  }

  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    Map<Digest, IOException> failures = inner.putBatch(blobs);
    blobs.forEach((digest, data) -> {
      if (!failures.containsKey(digest)) {
        keep(digest, data);
      }
    });
    return failures;
  }

  @Override
  public void put(Digest digest, ByteString data) throws IOException {
    inner.put(digest, data);
    keep(digest, data);
  }

  /** Reads served from memory, and reads of blobs small enough to keep that went below. */
  public synchronized long hits() {
    return hits;
  }

  public synchronized long misses() {
    return misses;
  }

  /** Bytes of blobs held now. */
  public synchronized long bytes() {
    return bytes;
  }

  private boolean keeps(Digest digest) {
    return digest.getSizeBytes() > 0 && digest.getSizeBytes() <= maxBlobBytes;
  }

  private synchronized ByteString lookUp(Digest digest) {
    if (!keeps(digest)) {
      return null;
    }
    ByteString data = recent.get(digest);
    if (data != null) {
      hits++;
    } else {
      misses++;
    }
    return data;
  }

  private synchronized void keep(Digest digest, ByteString data) {
    if (!keeps(digest) || data.size() != digest.getSizeBytes() || recent.containsKey(digest)) {
      return;
    }
    recent.put(digest, data);
    bytes += data.size();
    var eldest = recent.entrySet().iterator();
    while (bytes > maxBytes && eldest.hasNext()) {
      bytes -= eldest.next().getValue().size();
      eldest.remove();
    }
  }

  /** An upload whose bytes are kept once the store below has committed them. */
  private final class KeepingWriter extends ForwardingBlobWriter {
    private final Digest digest;
    private ByteString received = ByteString.EMPTY;

    KeepingWriter(Digest digest, BlobWriter upload) {
      super(upload);
      this.digest = digest;
    }

    @Override
    public void write(ByteString data) throws IOException {
      inner.write(data);
      // Bounded by the digest's size, which keeps() held to maxBlobBytes; more fails the commit.
      if (received.size() + (long) data.size() <= digest.getSizeBytes()) {
        received = received.concat(data);
      }
    }

    @Override
    public void commit() throws IOException {
      inner.commit();
      keep(digest, received);
    }
  }
}
