package build.rex.storage;

import build.bazel.remote.execution.v2.Digest;
import java.io.IOException;

/** Uploaded bytes that do not match the digest they were sent under. */
public final class DigestMismatchException extends IOException {
  public DigestMismatchException(Digest expected, String actualHash, long actualSize) {
    super("uploaded data does not match digest " + Digests.toString(expected)
        + ": received " + actualSize + " bytes with hash " + actualHash);
  }
}
