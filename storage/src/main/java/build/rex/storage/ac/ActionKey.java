package build.rex.storage.ac;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.Digests;

/** An Action Cache key. The instance name keeps tenants' entries apart. */
public record ActionKey(String instanceName, Digest actionDigest) {
  @Override
  public String toString() {
    return (instanceName.isEmpty() ? "" : instanceName + "/") + Digests.toString(actionDigest);
  }
}
