package build.rex.server;

import build.rex.config.ConfigLoader;
import build.rex.config.Validated;
import build.rex.config.Logging;
import build.rex.config.ConfigException;

import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.LoggerFactory;

/** The main method that every rex server process shares: config, logging, start, stop. */
public final class ServerMain {
  private ServerMain() {}

  /** A started server, as main needs to see it. */
  public interface RunningServer extends AutoCloseable {
    int grpcPort();

    int adminPort();

    void awaitTermination() throws InterruptedException;
  }

  /** Builds and starts a server from its config. */
  public interface Starter<C> {
    RunningServer start(C config) throws Exception;
  }

  /**
   * Runs {@code name [--config FILE]}: loads and validates the config (exit 2 naming the key if
   * it is bad), starts the server, and stops it cleanly on SIGTERM or Ctrl-C.
   */
  public static <C extends Validated> void run(String name, String[] args, Class<C> configType,
      Function<C, String> logLevel, Starter<C> starter) throws Exception {
    C config;
    try {
      config = ConfigLoader.load(configPath(name, args), configType);
    } catch (ConfigException | IllegalArgumentException e) {
      System.err.println(name + ": " + e.getMessage());
      System.exit(2);
      return;
    }
    Logging.init(logLevel.apply(config));
    // Peers are found through DNS (a headless Service): see changes within seconds, not the JVM's 30.
    java.security.Security.setProperty("networkaddress.cache.ttl", "5");
    java.security.Security.setProperty("networkaddress.cache.negative.ttl", "1");
    RunningServer server = starter.start(config);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        server.close();
      } catch (Exception e) {
        System.err.println(name + ": error while shutting down: " + e);
      }
    }, "shutdown"));
    exitWhenParentDies();
    LoggerFactory.getLogger(configType).info("{} ready: grpc on {}, admin on {}", name, server.grpcPort(), server.adminPort());
    server.awaitTermination();
  }

  /** The file given with {@code --config FILE}, or null for the built-in defaults. */
  static Path configPath(String name, String[] args) {
    if (args.length == 0) {
      return null;
    }
    if (args.length == 2 && args[0].equals("--config")) {
      return Path.of(args[1]);
    }
    if (args.length == 1 && args[0].startsWith("--config=")) {
      return Path.of(args[0].substring("--config=".length()));
    }
    throw new IllegalArgumentException("unexpected arguments " + String.join(" ", args)
        + "\nusage: " + name + " [--config FILE]");
  }

  /**
   * When started by {@code rex local} (which sets REX_PARENT_PID), exits if that launcher is
   * gone, so a killed launcher never leaves servers behind.
   */
  private static void exitWhenParentDies() {
    String parent = System.getenv("REX_PARENT_PID");
    if (parent == null) {
      return;
    }
    Optional<ProcessHandle> handle = ProcessHandle.of(Long.parseLong(parent));
    if (handle.isEmpty()) {
      System.exit(1);
    }
    handle.get().onExit().thenRun(() -> System.exit(1));
  }
}
