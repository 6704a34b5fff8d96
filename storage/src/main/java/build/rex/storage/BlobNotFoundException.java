package build.rex.storage;

import build.bazel.remote.execution.v2.Digest;
import java.io.IOException;

/** A blob that was asked for is not in the store. */
public class BlobNotFoundException extends IOException {
  private final Digest digest;

  public BlobNotFoundException(Digest digest) {
    this(digest, "blob " + Digests.toString(digest) + " is not in the CAS");
  }

  protected BlobNotFoundException(Digest digest, String message) {
    super(message);
    this.digest = digest;
  }

  public Digest digest() {
    return digest;
  }
}
