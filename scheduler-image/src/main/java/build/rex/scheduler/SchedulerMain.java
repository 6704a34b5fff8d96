package build.rex.scheduler;

import build.rex.server.ServerMain;

/** Starts a scheduler: {@code rex-scheduler [--config scheduler.yaml]}. */
public final class SchedulerMain {
  private SchedulerMain() {}

  public static void main(String[] args) throws Exception {
    ServerMain.run("rex-scheduler", args, SchedulerConfig.class, config -> config.logLevel, SchedulerServer::new);
  }
}
