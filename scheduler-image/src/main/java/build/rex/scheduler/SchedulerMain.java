package build.rex.scheduler;

import build.rex.server.ConfigException;
import build.rex.server.ConfigLoader;
import build.rex.server.Logging;
import build.rex.server.ServerMain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts a scheduler: {@code rex-scheduler [--config scheduler.yaml]}. */
public final class SchedulerMain {
  private SchedulerMain() {}

  public static void main(String[] args) throws Exception {
    SchedulerConfig config;
    try {
      config = ConfigLoader.load(ServerMain.configPath(args), SchedulerConfig.class);
    } catch (ConfigException e) {
      System.err.println("rex-scheduler: " + e.getMessage());
      System.exit(2);
      return;
    }
    Logging.init(config.logLevel);
    Logger log = LoggerFactory.getLogger(SchedulerMain.class);
    SchedulerServer server = new SchedulerServer(config);
    ServerMain.closeOnShutdown(server);
    ServerMain.exitWhenParentDies();
    log.info("scheduler ready: grpc on {}, admin on {}", server.grpcPort(), server.adminPort());
    server.awaitTermination();
  }
}
