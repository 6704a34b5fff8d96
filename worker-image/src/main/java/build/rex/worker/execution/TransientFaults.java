package build.rex.worker.execution;

import build.rex.storage.RemoteStorageException;
import io.grpc.Status;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Faults of the cluster rather than of the action: a peer that died, restarted or answered too
 * late. A step that meets one is tried again after a pause (the membership has usually moved
 * on by then, and the replicated store asks the new owners); if it still fails, the action is
 * reported UNAVAILABLE and the scheduler queues it again. Anything else is not retried.
 */
final class TransientFaults {
  private static final Logger log = LoggerFactory.getLogger(TransientFaults.class);
  private static final Set<Status.Code> TRANSIENT = Set.of(
      Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED, Status.Code.ABORTED);
  /** Pauses before the second and third try: long enough for a lost member to leave the membership. */
  static final long[] PAUSES_MILLIS = {300, 1_000};

  /** A step of an action that talks to other processes. */
  interface Step<E extends Exception> {
    void run() throws IOException, E;
  }

  private TransientFaults() {}

  static boolean isTransient(Throwable fault) {
    for (Throwable t = fault; t != null; t = t.getCause()) {
      if (t instanceof RemoteStorageException remote && TRANSIENT.contains(remote.status().getCode())) {
        return true;
      }
      if (t instanceof io.grpc.StatusRuntimeException grpc && TRANSIENT.contains(grpc.getStatus().getCode())) {
        return true;
      }
      if (t instanceof ConnectException || t instanceof InterruptedIOException && !Thread.currentThread().isInterrupted()) {
        return true;
      }
    }
    return false;
  }

  /** Runs {@code step}, again after each pause while it fails transiently. */
  static <E extends Exception> void retry(String what, Step<E> step) throws IOException, E, InterruptedException {
    for (int attempt = 0; ; attempt++) {
      try {
        step.run();
        return;
      } catch (IOException | RuntimeException e) {
        if (attempt >= PAUSES_MILLIS.length || !isTransient(e)) {
          throw e;
        }
        log.info("{} failed ({}); trying again in {} ms", what, e.toString(), PAUSES_MILLIS[attempt]);
        Thread.sleep(PAUSES_MILLIS[attempt]);
      }
    }
  }
}
