package build.rex.worker;

import build.rex.server.ServerMain;

/** Starts a worker: {@code rex-worker [--config worker.yaml]}. */
public final class WorkerMain {
  private WorkerMain() {}

  public static void main(String[] args) throws Exception {
    ServerMain.run("rex-worker", args, WorkerConfig.class, config -> config.logLevel, WorkerServer::new);
  }
}
