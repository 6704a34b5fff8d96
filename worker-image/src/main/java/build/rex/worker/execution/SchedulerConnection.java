package build.rex.worker.execution;

import build.rex.v1.WorkerMessage;

/** Where an assignment came from, and where its progress and result go. */
public interface SchedulerConnection {
  void send(WorkerMessage message);
}
