package build.rex.storage.replication;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.Digests;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;

/** Copies one blob from one store to another, streaming, at most at a given rate. */
public final class BlobCopier {
  private static final int CHUNK = 1 << 20;
  private final RateLimiter rate;

  public BlobCopier(RateLimiter rate) {
    this.rate = rate;
  }

  /** Copies {@code digest}; returns false when the target had it already. */
  public boolean copy(Digest digest, BlobStore from, BlobStore to) throws IOException {
    try (BlobWriter writer = to.newWriter(digest)) {
      if (writer.isComplete()) {
        return false;
      }
      try (InputStream in = from.openRead(digest, 0)) {
        byte[] buffer = new byte[(int) Math.min(CHUNK, Math.max(1, digest.getSizeBytes()))];
        for (int n; (n = in.read(buffer)) > 0; ) {
          rate.acquire(n);
          writer.write(ByteString.copyFrom(buffer, 0, n));
          if (writer.isComplete()) {
            return false;
          }
        }
      }
      writer.commit();
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while copying " + Digests.toString(digest));
    }
  }
}
