package build.rex.storage.coalesce;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * Merges the questions that arrive while calls are under way into one call. A caller that finds a
 * call slot free goes at once (one caller alone waits for nothing); callers that find every slot
 * taken queue, and whichever caller next gets a slot makes one call for all of them together.
 * Each caller gets the whole answer of the call that carried its question, and picks its part.
 *
 * @param <Q> one caller's question
 * @param <A> the answer to a merged call
 */
final class Coalescer<Q, A> {
  /** Makes the merged call for some questions. */
  interface Call<Q, A> {
    A call(List<Q> questions) throws IOException;
  }

  /** The answer of the call that carried a question, or what it failed with. */
  record Outcome<A>(A answer, IOException failure) {}

  private final String what;
  private final int maxCallsInFlight;
  private final long maxSizePerCall;
  private final ToLongFunction<Q> sizeOf;
  private final Call<Q, A> call;
  private final ArrayDeque<Ask<Q, A>> waiting = new ArrayDeque<>();
  private int inFlight;
  private long calls;

  /**
   * @param what the call, for messages
   * @param maxCallsInFlight how many merged calls may run at once (more than one, so one slow call
   *     does not hold every caller up)
   * @param maxSizePerCall the most a merged call carries, by {@code sizeOf} (a larger question goes alone)
   */
  Coalescer(String what, int maxCallsInFlight, long maxSizePerCall, ToLongFunction<Q> sizeOf, Call<Q, A> call) {
    if (maxCallsInFlight < 1 || maxSizePerCall < 1) {
      throw new IllegalArgumentException("limits must be positive, got " + maxCallsInFlight + " and " + maxSizePerCall);
    }
    this.what = what;
    this.maxCallsInFlight = maxCallsInFlight;
    this.maxSizePerCall = maxSizePerCall;
    this.sizeOf = sizeOf;
    this.call = call;
  }

  /** One caller's question and, once a merged call returned, its outcome. */
  private static final class Ask<Q, A> {
    final Q question;
    Outcome<A> outcome;

    Ask(Q question) {
      this.question = question;
    }
  }

  /** Asks {@code question}, alone or with others; returns the outcome of the call that carried it. */
  Outcome<A> ask(Q question) throws InterruptedIOException {
    Ask<Q, A> mine = new Ask<>(question);
    synchronized (this) {
      waiting.add(mine);
    }
    while (true) {
      List<Ask<Q, A>> batch;
      synchronized (this) {
        while (mine.outcome == null && (inFlight >= maxCallsInFlight || waiting.isEmpty())) {
          try {
            wait();
          } catch (InterruptedException e) {
            waiting.remove(mine);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for a " + what + " call");
          }
        }
        if (mine.outcome != null) {
          return mine.outcome;
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

  /** Takes the oldest questions, up to the size limit; at least one. */
  private List<Ask<Q, A>> takeBatch() {
    List<Ask<Q, A>> batch = new ArrayList<>();
    long size = 0;
    while (!waiting.isEmpty()
        && (batch.isEmpty() || size + sizeOf.applyAsLong(waiting.peek().question) <= maxSizePerCall)) {
      Ask<Q, A> ask = waiting.poll();
      size += sizeOf.applyAsLong(ask.question);
      batch.add(ask);
    }
    return batch;
  }

  private void answer(List<Ask<Q, A>> batch) {
    List<Q> questions = batch.stream().map(ask -> ask.question).toList();
    A answer = null;
    IOException failure = null;
    // Whatever ends the call (an Error too), every caller in it is answered and its slot freed,
    // or they would wait forever.
    try {
      answer = io.grpc.Context.current().fork().call(() -> call.call(questions));
    } catch (IOException e) {
      failure = e;
    } catch (RuntimeException e) {
      failure = new IOException(what + " failed: " + e, e);
    } catch (Exception e) {
      failure = new IOException(e);
    } catch (Error e) {
      failure = new IOException(what + " ended without an answer: " + e, e);
      throw e;
    } finally {
      Outcome<A> outcome = new Outcome<>(answer, failure);
      synchronized (this) {
        batch.forEach(ask -> ask.outcome = outcome);
        inFlight--;
        notifyAll();
      }
    }
  }

  /** How many calls were made: fewer than callers when they were merged. */
  synchronized long calls() {
    return calls;
  }

  /** How many callers wait for a slot; for tests that wait for callers to queue. */
  synchronized int queued() {
    return waiting.size();
  }
}
