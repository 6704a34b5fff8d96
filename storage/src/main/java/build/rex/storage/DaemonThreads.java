package build.rex.storage;

import java.util.concurrent.ThreadFactory;

/** Named daemon threads for background work that must never keep a stopping process alive. */
public final class DaemonThreads {
  private DaemonThreads() {}

  public static ThreadFactory named(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }
}
