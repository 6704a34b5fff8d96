package build.rex.storage;

import java.util.Set;

/** Validation of REAPI instance names, which may not contain the keywords of resource names. */
public final class InstanceNames {
  public static final Set<String> RESERVED_SEGMENTS = Set.of(
      "blobs", "uploads", "actions", "actionResults", "operations", "capabilities", "compressed-blobs");

  private InstanceNames() {}

  public static void validate(String instanceName) throws InvalidArgumentException {
    if (instanceName.isEmpty()) {
      return;
    }
    if (instanceName.startsWith("/") || instanceName.endsWith("/")) {
      throw new InvalidArgumentException("instance name '" + instanceName + "' must not start or end with '/'");
    }
    for (String segment : instanceName.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new InvalidArgumentException("instance name '" + instanceName + "' has an empty, '.' or '..' segment");
      }
      if (RESERVED_SEGMENTS.contains(segment)) {
        throw new InvalidArgumentException("instance name '" + instanceName + "' contains the reserved segment '"
            + segment + "'; these may not appear in instance names: " + RESERVED_SEGMENTS);
      }
    }
  }
}
