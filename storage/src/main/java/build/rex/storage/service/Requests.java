package build.rex.storage.service;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import build.rex.storage.Digests;
import build.rex.storage.InstanceNames;
import build.rex.storage.InvalidArgumentException;

/** Validation of the fields that every storage request shares. */
public final class Requests {
  private Requests() {}

  public static void checkCommon(String instanceName, DigestFunction.Value function) throws InvalidArgumentException {
    InstanceNames.validate(instanceName);
    String problem = Digests.problemWith(function);
    if (problem != null) {
      throw new InvalidArgumentException(problem);
    }
  }

  public static void checkDigest(String field, Digest digest) throws InvalidArgumentException {
    Digests.check(field, digest);
  }
}
