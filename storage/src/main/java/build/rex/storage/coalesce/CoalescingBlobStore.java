package build.rex.storage.coalesce;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.ForwardingBlobStore;
import build.rex.storage.replication.PartlyAnsweredException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Merges the findMissing calls that arrive while others are under way into one call to the store
 * below. A caller that finds a call slot free goes at once (one caller alone waits for nothing);
 * callers that find every slot taken queue, and whichever caller next gets a slot asks for all of
 * them together. Under many concurrent Action Cache hits each checking a few outputs, this turns
 * one call to the workers per hit into one per round trip. Reads and writes pass straight through.
 */
public final class CoalescingBlobStore extends ForwardingBlobStore {
  private final int maxCallsInFlight;
  private final int maxDigestsPerCall;
  private final ArrayDeque<Ask> waiting = new ArrayDeque<>();
  private int inFlight;
  private long calls;

  /**
   * @param maxCallsInFlight how many merged calls may run at once (more than one, so one slow call
   *     does not hold every caller up)
   * @param maxDigestsPerCall the most digests merged into one call (a caller asking for more goes alone)
   */
  public CoalescingBlobStore(BlobStore inner, int maxCallsInFlight, int maxDigestsPerCall) {
    super(inner);
    if (maxCallsInFlight < 1 || maxDigestsPerCall < 1) {
      throw new IllegalArgumentException("limits must be positive, got " + maxCallsInFlight + " and " + maxDigestsPerCall);
    }
    this.maxCallsInFlight = maxCallsInFlight;
    this.maxDigestsPerCall = maxDigestsPerCall;
  }

  /** One caller's question and, once a merged call returned, its answer. */
  private static final class Ask {
    final Collection<Digest> digests;
    Set<Digest> missing;
    IOException failure;
    boolean answered;

    Ask(Collection<Digest> digests) {
      this.digests = digests;
    }
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    if (digests.isEmpty()) {
      return Set.of();
    }
    Ask mine = new Ask(digests);
    synchronized (this) {
      waiting.add(mine);
    }
    while (true) {
      List<Ask> batch;
      synchronized (this) {
        while (!mine.answered && (inFlight >= maxCallsInFlight || waiting.isEmpty())) {
          try {
            wait();
          } catch (InterruptedException e) {
            waiting.remove(mine);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for a FindMissing call");
          }
        }
        if (mine.answered) {
          if (mine.failure != null) {
            throw mine.failure;
          }
          return mine.missing;
        }
        batch = takeBatch();
        inFlight++;
        calls++;
      }
      // The merged call runs in whichever caller's thread got the slot: it may be answering
      // others while its own question rides in another call. It is not cancelled with this
      // caller's gRPC call, as the others still want the answer.
      answer(batch);
    }
  }

  /** Takes the oldest questions, up to the digest limit; at least one. */
  private List<Ask> takeBatch() {
    List<Ask> batch = new ArrayList<>();
    int digests = 0;
    while (!waiting.isEmpty()
        && (batch.isEmpty() || digests + waiting.peek().digests.size() <= maxDigestsPerCall)) {
      Ask ask = waiting.poll();
      digests += ask.digests.size();
      batch.add(ask);
    }
    return batch;
  }

  private void answer(List<Ask> batch) {
    Set<Digest> merged = new LinkedHashSet<>();
    batch.forEach(ask -> merged.addAll(ask.digests));
    Set<Digest> missing = null;
    // Whatever ends the call (an Error too), every caller in it is answered and its slot freed,
    // or they would wait forever.
    IOException failure = new IOException("FindMissing ended without an answer");
    try {
      missing = io.grpc.Context.current().fork().call(() -> inner.findMissing(merged));
      failure = null;
    } catch (IOException e) {
      failure = e;
    } catch (RuntimeException e) {
      failure = new IOException("FindMissing failed: " + e, e);
    } catch (Exception e) {
      failure = new IOException(e);
    } finally {
      synchronized (this) {
        for (Ask ask : batch) {
          settle(ask, missing, failure);
        }
        inFlight--;
        notifyAll();
      }
    }
  }

  /** A caller whose digests were all answered gets its answer even when others' were not. */
  private static void settle(Ask ask, Set<Digest> missing, IOException failure) {
    Set<Digest> answered = missing;
    if (failure instanceof PartlyAnsweredException partly
        && ask.digests.stream().noneMatch(partly.unanswered()::contains)) {
      answered = partly.missing();
    } else if (failure != null) {
      ask.failure = failure;
    }
    if (ask.failure == null) {
      Set<Digest> own = new HashSet<>();
      for (Digest digest : ask.digests) {
        if (answered.contains(digest)) {
          own.add(digest);
        }
      }
      ask.missing = own;
    }
    ask.answered = true;
  }

  /** How many calls went to the store below: fewer than callers when they were merged. */
  public synchronized long calls() {
    return calls;
  }

  /** How many callers wait for a slot; for tests that wait for callers to queue. */
  synchronized int queued() {
    return waiting.size();
  }
}
