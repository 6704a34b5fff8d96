package build.rex.server;

import java.nio.file.Path;

/** Command-line handling that the server processes share. */
public final class ServerMain {
  private ServerMain() {}

  /** The file given with {@code --config FILE}, or null for the built-in defaults. */
  public static Path configPath(String[] args) {
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        return Path.of(args[i + 1]);
      }
      if (args[i].startsWith("--config=")) {
        return Path.of(args[i].substring("--config=".length()));
      }
    }
    return null;
  }

  /** Closes the server on SIGTERM or Ctrl-C, so calls in flight finish and files are closed. */
  public static void closeOnShutdown(AutoCloseable server) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.close();
      } catch (Exception e) {
        System.err.println("error while shutting down: " + e);
      }
    }, "shutdown"));
  }

  /**
   * When started by {@code rex local} (which sets REX_PARENT_PID), exits if that launcher is
   * gone, so a killed launcher never leaves servers behind.
   */
  public static void exitWhenParentDies() {
    String parent = System.getenv("REX_PARENT_PID");
    if (parent == null) {
      return;
    }
    java.util.Optional<ProcessHandle> handle = ProcessHandle.of(Long.parseLong(parent));
    if (handle.isEmpty()) {
      System.exit(1);
    }
    handle.get().onExit().thenRun(() -> System.exit(1));
  }
}
