package build.rex.storage.coalesce;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.ForwardingBlobStore;
import build.rex.storage.replication.PartlyAnsweredException;
import build.rex.storage.transfer.Batches;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Merges the findMissing calls, and the batch writes, that arrive while others are under way
 * into one call to the store below ({@link Coalescer}). Under many concurrent Action Cache hits
 * each checking a few outputs, or a build uploading many small inputs at once, this turns one
 * call to the workers per caller into one per round trip (and, on a worker's disk, one sync for
 * the whole batch). Reads and streamed writes pass straight through.
 */
public final class CoalescingBlobStore extends ForwardingBlobStore {
  private final Coalescer<Collection<Digest>, Set<Digest>> checks;
  private final Coalescer<Map<Digest, ByteString>, Map<Digest, IOException>> writes;

  /**
   * @param maxCallsInFlight how many merged calls of each kind may run at once (more than one, so
   *     one slow call does not hold every caller up)
   * @param maxDigestsPerCall the most digests merged into one findMissing (a caller asking for more goes alone)
   */
  public CoalescingBlobStore(BlobStore inner, int maxCallsInFlight, int maxDigestsPerCall) {
    super(inner);
    this.checks = new Coalescer<>("FindMissing", maxCallsInFlight, maxDigestsPerCall, Collection::size,
        asks -> {
          Set<Digest> merged = new LinkedHashSet<>();
          asks.forEach(merged::addAll);
          return inner.findMissing(merged);
        });
    this.writes = new Coalescer<>("BatchUpdate", maxCallsInFlight, Batches.MAX_BATCH_BYTES,
        blobs -> blobs.values().stream().mapToLong(ByteString::size).sum(),
        asks -> {
          Map<Digest, ByteString> merged = new LinkedHashMap<>();
          asks.forEach(merged::putAll);
          return inner.putBatch(merged);
        });
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    if (digests.isEmpty()) {
      return Set.of();
    }
    Coalescer.Outcome<Set<Digest>> outcome = checks.ask(digests);
    Set<Digest> answered = outcome.answer();
    if (outcome.failure() instanceof PartlyAnsweredException partly
        && digests.stream().noneMatch(partly.unanswered()::contains)) {
      // Every digest of this caller was answered, though others' were not.
      answered = partly.missing();
    } else if (outcome.failure() != null) {
      throw outcome.failure();
    }
    Set<Digest> own = new HashSet<>();
    for (Digest digest : digests) {
      if (answered.contains(digest)) {
        own.add(digest);
      }
    }
    return own;
  }

  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    if (blobs.isEmpty()) {
      return Map.of();
    }
    Coalescer.Outcome<Map<Digest, IOException>> outcome;
    try {
      outcome = writes.ask(blobs);
    } catch (java.io.InterruptedIOException e) {
      outcome = new Coalescer.Outcome<>(null, e);
    }
    Map<Digest, IOException> own = new HashMap<>();
    for (Digest digest : blobs.keySet()) {
      IOException failed = outcome.failure() != null ? outcome.failure() : outcome.answer().get(digest);
      if (failed != null) {
        own.put(digest, failed);
      }
    }
    return own;
  }

  /** How many findMissing calls went to the store below: fewer than callers when they were merged. */
  public long calls() {
    return checks.calls();
  }

  /** How many batch writes went to the store below. */
  public long writeCalls() {
    return writes.calls();
  }

  /** How many callers wait for a findMissing slot; for tests that wait for callers to queue. */
  int queued() {
    return checks.queued();
  }

  /** How many callers wait for a write slot. */
  int queuedWrites() {
    return writes.queued();
  }
}
