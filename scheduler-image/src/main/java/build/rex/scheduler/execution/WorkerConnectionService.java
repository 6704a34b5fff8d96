package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.ActionResult;
import build.rex.scheduler.cluster.WorkerStream;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.ActionKey;
import build.rex.storage.ac.InMemoryActionCache;
import build.rex.v1.SchedulerMessage;
import build.rex.v1.WorkerMessage;
import build.rex.v1.WorkerServiceGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's end of the worker protocol. A successful result (unless the action says
 * do_not_cache) is in this scheduler's Action Cache memory before the job completes, so the
 * client's next lookup finds it: workers store the durable copies with the entry's owners right
 * after reporting, and the scheduler only remembers it; when a worker could not (it sends
 * ResultNotCached) or is older, the scheduler stores it.
 */
public final class WorkerConnectionService extends WorkerServiceGrpc.WorkerServiceImplBase {
  private static final Logger log = LoggerFactory.getLogger(WorkerConnectionService.class);
  private final Dispatcher dispatcher;
  private final WorkerRegistry registry;
  private final InMemoryActionCache actionCache;
  /** Results are stored off the stream's thread, so one slow write does not hold up a worker's other messages. */
  private final Executor resultWriters;

  public WorkerConnectionService(Dispatcher dispatcher, InMemoryActionCache actionCache, Executor resultWriters) {
    this.dispatcher = dispatcher;
    this.registry = dispatcher.workers();
    this.actionCache = actionCache;
    this.resultWriters = resultWriters;
  }

  @Override
  public StreamObserver<WorkerMessage> connect(StreamObserver<SchedulerMessage> responses) {
    WorkerStream toWorker = new WorkerStream(responses);
    return new StreamObserver<>() {
      private String workerId;

      @Override
      public void onNext(WorkerMessage message) {
        if (workerId == null && !message.hasHello()) {
          toWorker.end(Status.FAILED_PRECONDITION.withDescription("the first message must be a Hello"));
          return;
        }
        if (message.hasHello()) {
          workerId = message.getHello().getWorkerId();
          registry.connected(message.getHello(), toWorker);
          return;
        }
        registry.seen(workerId);
        switch (message.getMessageCase()) {
          case FREE -> dispatcher.executorFree(workerId, message.getFree().getExecutorId());
          case TAKEN -> dispatcher.executorTaken(workerId, message.getTaken().getExecutorId());
          case DECLINED -> dispatcher.declined(workerId, message.getDeclined().getOperation(),
              message.getDeclined().getAttempt());
          case STATUS -> registry.status(workerId, message.getStatus());
          case STARTED -> dispatcher.started(workerId, message.getStarted().getOperation(),
              message.getStarted().getAttempt());
          case FINISHED -> {
            // Taken in stream order (the executor is free before its next message is read);
            // only storing the result happens elsewhere.
            Job job = dispatcher.finished(workerId, message.getFinished());
            if (job != null && message.getFinished().getCacheHandled()) {
              if (ActionCache.mayCache(job.action, job.pendingResult)) {
                actionCache.remember(job.key, job.pendingResult.getResult());
              }
              dispatcher.resultStored(job);
            } else if (job != null) {
              resultWriters.execute(() -> store(job));
            }
          }
          case RESULT_NOT_CACHED -> {
            var failed = message.getResultNotCached();
            resultWriters.execute(() -> store(new ActionKey(failed.getInstanceName(), failed.getActionDigest()),
                failed.getResult(), failed.getOperation()));
          }
          case HEARTBEAT -> dispatcher.heartbeat(workerId, message.getHeartbeat());
          default -> log.warn("worker {} sent an empty message", workerId);
        }
      }

      /** Caches a successful result an older worker did not store, before the job completes. */
      private void store(Job job) {
        try {
          if (ActionCache.mayCache(job.action, job.pendingResult)) {
            store(job.key, job.pendingResult.getResult(), job.name);
          }
        } finally {
          dispatcher.resultStored(job);
        }
      }

      private void store(ActionKey key, ActionResult result, String operation) {
        try {
          actionCache.put(key, result);
        } catch (IOException | RuntimeException e) {
          log.warn("could not cache the result of {} ({}): {}", operation, key, e.toString());
        }
      }

      @Override
      public void onError(Throwable t) {
        if (workerId != null) {
          registry.gone(workerId, toWorker, "stream broke: " + Status.fromThrowable(t).getCode());
        }
      }

      @Override
      public void onCompleted() {
        if (workerId != null) {
          registry.gone(workerId, toWorker, "disconnected");
        }
        toWorker.end(null);
      }
    };
  }
}
