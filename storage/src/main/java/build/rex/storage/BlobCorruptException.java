package build.rex.storage;

import build.bazel.remote.execution.v2.Digest;

/**
 * A stored copy of a blob whose bytes no longer match its digest (bit rot, a stray write). It is
 * a kind of absence: the copy is gone from the store that found it, so callers that fall over to
 * another copy on NOT_FOUND do the same here; clients see DATA_LOSS.
 */
public final class BlobCorruptException extends BlobNotFoundException {
  public BlobCorruptException(Digest digest, String detail) {
    this(digest, "blob " + Digests.toString(digest) + " failed verification on read (" + detail
        + "); that copy was taken out of service", true);
  }

  private BlobCorruptException(Digest digest, String message, boolean unused) {
    super(digest, message);
  }

  /** As another store reported it, with its message. */
  public static BlobCorruptException reported(Digest digest, String message) {
    return new BlobCorruptException(digest, message, true);
  }
}
