package build.rex.scheduler;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting for a condition a test checks, polled, with a generous deadline for busy machines. */
public final class Await {
  private Await() {}

  /** A condition whose check may throw (a call to a server); a throw fails the wait at once. */
  public interface Check {
    boolean holds() throws Exception;
  }

  /** Polls {@code condition} every few milliseconds until it holds; fails after 30 s. */
  public static void until(String what, BooleanSupplier condition) throws InterruptedException {
    try {
      holds(what, condition::getAsBoolean);
    } catch (InterruptedException | RuntimeException | Error e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Like {@link #until}, for a check that calls something that may throw. */
  public static void holds(String what, Check condition) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(5);
    }
  }
}
