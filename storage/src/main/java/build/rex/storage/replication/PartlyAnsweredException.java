package build.rex.storage.replication;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.RemoteStorageException;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import java.util.Map;
import java.util.Set;

/**
 * A batch call that some of the stores it went to did not answer. To a caller that only knows
 * {@link build.rex.storage.BlobStore} it is a failed call (UNAVAILABLE); a layer above that can
 * use half an answer reads what the others said: for each digest asked about, it was either
 * answered or is {@link #unanswered}.
 */
public final class PartlyAnsweredException extends RemoteStorageException {
  private final Set<Digest> missing;
  private final Map<Digest, ByteString> found;
  private final Set<Digest> unanswered;

  private PartlyAnsweredException(Set<Digest> missing, Map<Digest, ByteString> found, Set<Digest> unanswered,
      java.io.IOException firstFailure) {
    super(Status.UNAVAILABLE.withDescription(unanswered.size() + " of the digests asked about got no answer: "
        + firstFailure.getMessage()).withCause(firstFailure));
    this.missing = missing;
    this.found = found;
    this.unanswered = unanswered;
  }

  /** A findMissing of which {@code missing} is the answer for every digest not {@code unanswered}. */
  public static PartlyAnsweredException ofFindMissing(Set<Digest> missing, Set<Digest> unanswered, java.io.IOException why) {
    return new PartlyAnsweredException(missing, Map.of(), unanswered, why);
  }

  /** A getBatch that found {@code found}; every other digest not {@code unanswered} is absent. */
  static PartlyAnsweredException ofGetBatch(Map<Digest, ByteString> found, Set<Digest> unanswered, java.io.IOException why) {
    return new PartlyAnsweredException(Set.of(), found, unanswered, why);
  }

  /** Of the answered digests of a findMissing, those missing. */
  public Set<Digest> missing() {
    return missing;
  }

  /** What a getBatch found among the answered digests. */
  public Map<Digest, ByteString> found() {
    return found;
  }

  public Set<Digest> unanswered() {
    return unanswered;
  }
}
