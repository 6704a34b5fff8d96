package build.rex.storage;

import build.bazel.remote.execution.v2.Digest;
import java.io.IOException;

/** A blob larger than the store can ever hold. */
public final class BlobTooLargeException extends IOException {
  public BlobTooLargeException(Digest digest, long capacity) {
    super("blob " + Digests.toString(digest) + " is larger than the store's capacity of " + capacity + " bytes");
  }
}
