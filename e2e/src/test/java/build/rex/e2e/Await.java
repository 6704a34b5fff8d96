package build.rex.e2e;

import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** Waiting for what a test checks: polled; a poll that throws counts as "not yet". */
final class Await {
  private Await() {}

  /** True once {@code condition} holds, false when {@code millis} ran out first. */
  static boolean upTo(long millis, long pollMillis, Callable<Boolean> condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (System.nanoTime() < deadline) {
      try {
        if (condition.call()) {
          return true;
        }
      } catch (Exception notYet) {
        // polled again
      }
      Thread.sleep(pollMillis);
    }
    return false;
  }

  /** Waits for {@code condition}; fails the test, naming {@code what}, after {@code seconds}. */
  static void until(String what, long seconds, Callable<Boolean> condition) throws InterruptedException {
    if (!upTo(TimeUnit.SECONDS.toMillis(seconds), 100, condition)) {
      throw new AssertionError("timed out after " + seconds + " s waiting for " + what);
    }
  }
}
