package build.rex.config;

import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * One line per event, with time, level and logger, on stderr. gRPC and Netty log through
 * java.util.logging, which is routed into the same stream.
 */
public final class Logging {
  private Logging() {}

  /** Call first thing in main, before any logger is created. */
  public static void init(String level) {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level);
    System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
    System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
    System.setProperty("org.slf4j.simpleLogger.showShortLogName", "true");
    System.setProperty("org.slf4j.simpleLogger.levelInBrackets", "false");
    System.setProperty("org.slf4j.simpleLogger.log.io.grpc.netty", "warn");
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
  }
}
