package build.rex.storage.transfer;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes small blobs to a store in batches of bounded size: {@link #add} sends the batch when the
 * next blob would not fit, so memory stays bounded however many blobs are written. The first
 * failure is thrown.
 */
public final class BatchWriter {
  private final BlobStore target;
  private final long maxBytes;
  private final Map<Digest, ByteString> batch = new LinkedHashMap<>();
  private long bytes;

  public BatchWriter(BlobStore target) {
    this(target, Batches.MAX_BATCH_BYTES);
  }

  public BatchWriter(BlobStore target, long maxBytes) {
    this.target = target;
    this.maxBytes = maxBytes;
  }

  /** Adds a small blob (streamed ones, see {@link Batches#streamed}, do not belong here). */
  public void add(Digest digest, ByteString data) throws IOException {
    if (Batches.streamed(data.size())) {
      throw new IllegalArgumentException("a blob of " + data.size() + " bytes is streamed, not batched");
    }
    if (bytes + data.size() > maxBytes) {
      flush();
    }
    if (batch.put(digest, data) == null) {
      bytes += data.size();
    }
  }

  /** Sends what is waiting. */
  public void flush() throws IOException {
    if (batch.isEmpty()) {
      return;
    }
    Map<Digest, IOException> failures = target.putBatch(batch);
    batch.clear();
    bytes = 0;
    if (!failures.isEmpty()) {
      throw failures.values().iterator().next();
    }
  }
}
