package build.rex.storage.verify;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobCorruptException;
import build.rex.storage.ChunkedInput;
import build.rex.storage.Digests;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;

/**
 * A stored blob read from its first byte, hashed as it streams. The check runs before the last
 * byte is handed out, so a reader never receives a whole blob with wrong bytes: a blob of at most
 * {@link #READ_AHEAD_BYTES} is read and checked when it is opened (so a caller can still fall over
 * to another copy), a longer one fails before its end. A ranged read hashes the bytes before its
 * offset first (the only way to keep the guarantee without per-block hashes on disk).
 */
public final class VerifyingInputStream extends InputStream implements ChunkedInput {
  private final Digest digest;
  private final InputStream in;
  private final Quarantine quarantine;
  /** Blobs up to this size are checked before the stream is handed out. */
  static final int READ_AHEAD_BYTES = 1 << 20;
  private final MessageDigest hasher = Digests.newHasher();
  private long position;
  /** Bytes read and checked at open, not yet handed out. */
  private ByteString ahead = ByteString.EMPTY;

  private VerifyingInputStream(Digest digest, InputStream in, Quarantine quarantine) {
    this.digest = digest;
    this.in = in;
    this.quarantine = quarantine;
  }

  /** Wraps {@code fromStart} (the copy opened at byte 0) and positions it at {@code offset}. */
  public static VerifyingInputStream open(Digest digest, InputStream fromStart, long offset, Quarantine quarantine)
      throws IOException {
    VerifyingInputStream verifying = new VerifyingInputStream(digest, fromStart, quarantine);
    try {
      while (verifying.position < Math.min(offset, digest.getSizeBytes())) {
        verifying.readChunk((int) Math.min(READ_AHEAD_BYTES, offset - verifying.position));
      }
      long left = digest.getSizeBytes() - verifying.position;
      if (left > 0 && left <= READ_AHEAD_BYTES) {
        verifying.ahead = verifying.readChunk((int) left);
      }
    } catch (IOException | RuntimeException e) {
      verifying.close();
      throw e;
    }
    return verifying;
  }

  @Override
  public ByteString readChunk(int maxBytes) throws IOException {
    if (!ahead.isEmpty()) {
      ByteString out = ahead.substring(0, Math.min(maxBytes, ahead.size()));
      ahead = ahead.substring(out.size());
      return out;
    }
    long left = digest.getSizeBytes() - position;
    if (left <= 0) {
      return ByteString.EMPTY;
    }
    int want = (int) Math.min(maxBytes, left);
    ByteString chunk = in instanceof ChunkedInput chunked ? chunked.readChunk(want) : ByteString.readFrom(in, want, want);
    if (chunk.size() > want) {
      chunk = chunk.substring(0, want);
    }
    for (ByteBuffer buffer : chunk.asReadOnlyByteBufferList()) {
      hasher.update(buffer);
    }
    advance(chunk.size());
    return chunk;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    if (length == 0) {
      return 0;
    }
    if (!ahead.isEmpty()) {
      int n = Math.min(length, ahead.size());
      ahead.copyTo(buffer, 0, offset, n);
      ahead = ahead.substring(n);
      return n;
    }
    long left = digest.getSizeBytes() - position;
    if (left <= 0) {
      return -1;
    }
    int n = in.read(buffer, offset, (int) Math.min(length, left));
    if (n > 0) {
      hasher.update(buffer, offset, n);
    }
    advance(Math.max(n, 0));
    return n;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  /** Counts {@code n} bytes read; at the end (or on a short copy), checks the whole blob. */
  private void advance(int n) throws IOException {
    if (n == 0) {
      fail("the copy ends after " + position + " of " + digest.getSizeBytes() + " bytes");
    }
    position += n;
    if (position < digest.getSizeBytes()) {
      return;
    }
    if (in.read() >= 0) {
      fail("the copy is longer than " + digest.getSizeBytes() + " bytes");
    }
    String hash = Digests.hex(hasher.digest());
    if (!hash.equals(digest.getHash())) {
      fail("its bytes hash to " + hash);
    }
    quarantine.passed(digest);
  }

  private void fail(String why) throws BlobCorruptException {
    quarantine.isolate(digest, why);
    throw new BlobCorruptException(digest, why);
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
