package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.ac.ActionKey;
import java.util.Arrays;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * What an operation's name says: {@code [<instance>/]operations/<owner>/<hash>-<size>/<id>}.
 * The owner (the scheduler that queued it, as its peers reach it) lets any scheduler forward
 * a WaitExecution to it; the instance and action let any scheduler take the operation over
 * when its owner is gone, so a client that lost its scheduler finds its operation on another.
 * "operations" is a reserved word of the REAPI, never a segment of an instance name, so the
 * name parses without ambiguity.
 */
public record OperationName(String instance, String owner, Digest action, String id) {
  private static final String KEYWORD = "operations";
  private static final Pattern ACTION = Pattern.compile("([0-9a-f]{64})-([0-9]{1,18})");
  private static final Pattern OWNER = Pattern.compile("[A-Za-z0-9.:\\[\\]_-]+");

  /** A new name for an operation on {@code key}, owned by {@code owner}. */
  public static OperationName create(ActionKey key, String owner) {
    return new OperationName(key.instanceName(), owner, key.actionDigest(), UUID.randomUUID().toString());
  }

  public ActionKey key() {
    return new ActionKey(instance, action);
  }

  /** Empty for anything that is not a name this format makes (cached results' names, garbage). */
  public static Optional<OperationName> parse(String name) {
    String[] segments = name.split("/", -1);
    int keyword = Arrays.asList(segments).indexOf(KEYWORD);
    if (keyword < 0 || segments.length != keyword + 4) {
      return Optional.empty();
    }
    String owner = segments[keyword + 1];
    var action = ACTION.matcher(segments[keyword + 2]);
    String id = segments[keyword + 3];
    if (!OWNER.matcher(owner).matches() || !action.matches() || id.isEmpty()) {
      return Optional.empty();
    }
    String instance = String.join("/", Arrays.copyOfRange(segments, 0, keyword));
    Digest digest = Digest.newBuilder().setHash(action.group(1)).setSizeBytes(Long.parseLong(action.group(2))).build();
    return Optional.of(new OperationName(instance, owner, digest, id));
  }

  @Override
  public String toString() {
    return (instance.isEmpty() ? "" : instance + "/") + KEYWORD + "/" + owner + "/" + action.getHash() + "-"
        + action.getSizeBytes() + "/" + id;
  }
}
