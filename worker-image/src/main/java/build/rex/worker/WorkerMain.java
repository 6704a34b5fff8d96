package build.rex.worker;

import build.rex.server.ConfigException;
import build.rex.server.ConfigLoader;
import build.rex.server.Logging;
import build.rex.server.ServerMain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts a worker: {@code rex-worker [--config worker.yaml]}. */
public final class WorkerMain {
  private WorkerMain() {}

  public static void main(String[] args) throws Exception {
    WorkerConfig config;
    try {
      config = ConfigLoader.load(ServerMain.configPath(args), WorkerConfig.class);
    } catch (ConfigException e) {
      System.err.println("rex-worker: " + e.getMessage());
      System.exit(2);
      return;
    }
    Logging.init(config.logLevel);
    Logger log = LoggerFactory.getLogger(WorkerMain.class);
    WorkerServer server = new WorkerServer(config);
    ServerMain.closeOnShutdown(server);
    ServerMain.exitWhenParentDies();
    log.info("worker ready: grpc on {}, admin on {}", server.grpcPort(), server.adminPort());
    server.awaitTermination();
  }
}
