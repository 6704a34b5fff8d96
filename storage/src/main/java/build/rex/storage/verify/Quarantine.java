package build.rex.storage.verify;

import build.bazel.remote.execution.v2.Digest;

/** Where a copy that failed verification goes: out of service, kept for inspection. */
public interface Quarantine {
  /** Takes the store's copy of {@code digest} out of service; {@code why} says what was wrong. */
  void isolate(Digest digest, String why);

  /** Told when a whole copy of {@code digest} was read and matched its digest. */
  default void passed(Digest digest) {}
}
