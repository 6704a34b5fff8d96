package build.rex.worker.execution;

import build.bazel.remote.execution.v2.ExecuteResponse;
import build.rex.v1.ActionFinished;
import build.rex.v1.ActionStarted;
import build.rex.v1.Assignment;
import build.rex.v1.Executor;
import build.rex.v1.ExecutorFree;
import build.rex.v1.Heartbeat;
import build.rex.v1.Hello;
import build.rex.v1.SchedulerMessage;
import build.rex.v1.WorkerMessage;
import build.rex.v1.WorkerServiceGrpc;
import build.bazel.remote.execution.v2.Platform;
import build.rex.server.DaemonThreads;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.worker.sandbox.Sandbox;
import build.rex.storage.remote.GrpcBlobStore;
import io.grpc.Channel;
import java.nio.file.Path;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's end of the worker protocol: keeps a stream open to the scheduler (reconnecting
 * with backoff), announces the executors, runs assignments and reports their results, and
 * sends heartbeats so the scheduler notices when the worker is gone.
 */
public final class SchedulerLink implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SchedulerLink.class);
  private static final long HEARTBEAT_SECONDS = 2;
  private final Hello hello;
  private final Channel channel;
  private final ActionRunner runner;
  private final ExecutorService executors;
  private final ScheduledExecutorService heartbeats =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("heartbeat"));
  private final Set<String> busy = ConcurrentHashMap.newKeySet();
  private final Map<String, CommandRunner> running = new ConcurrentHashMap<>();
  private final Thread loop;
  private volatile StreamObserver<WorkerMessage> stream;
  private volatile boolean closed;

  SchedulerLink(Hello hello, Channel channel, ActionRunner runner) {
    this.hello = hello;
    this.channel = channel;
    this.runner = runner;
    this.executors = Executors.newFixedThreadPool(hello.getExecutorsCount(), DaemonThreads.named("executor"));
    this.loop = DaemonThreads.named("scheduler-link").newThread(this::connectLoop);
    heartbeats.scheduleAtFixedRate(() -> send(WorkerMessage.newBuilder().setHeartbeat(Heartbeat.getDefaultInstance()).build()),
        HEARTBEAT_SECONDS, HEARTBEAT_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * Connects to the scheduler behind {@code channel}, which is also the cluster CAS that inputs
   * come from and outputs go to; exec roots are made under {@code execRoots}, on the same file
   * system as {@code local} so inputs can be hard-linked.
   */
  public static SchedulerLink start(Hello hello, Channel channel, DiskBlobStore local, Path execRoots, Sandbox sandbox) {
    ActionRunner runner = new ActionRunner(hello.getWorkerId(), new GrpcBlobStore(channel, "scheduler"), local,
        execRoots, sandbox);
    SchedulerLink link = new SchedulerLink(hello, channel, runner);
    link.loop.start();
    return link;
  }

  private void connectLoop() {
    long backoffMillis = 200;
    while (!closed) {
      CountDownLatch ended = new CountDownLatch(1);
      StreamObserver<WorkerMessage> out = WorkerServiceGrpc.newStub(channel).connect(new StreamObserver<>() {
        @Override
        public void onNext(SchedulerMessage message) {
          if (message.hasAssignment()) {
            executors.execute(() -> execute(message.getAssignment()));
          } else if (message.hasCancel()) {
            CommandRunner command = running.get(message.getCancel().getOperation());
            if (command != null) {
              command.cancel();
            }
          }
        }

        @Override
        public void onError(Throwable t) {
          ended.countDown();
        }

        @Override
        public void onCompleted() {
          ended.countDown();
        }
      });
      synchronized (this) {
        stream = out;
        out.onNext(WorkerMessage.newBuilder().setHello(hello).build());
        for (Executor executor : hello.getExecutorsList()) {
          if (!busy.contains(executor.getExecutorId())) {
            out.onNext(free(executor.getExecutorId()));
          }
        }
      }
      try {
        if (ended.await(HEARTBEAT_SECONDS * 3, TimeUnit.SECONDS)) {
          backoffMillis = Math.min(backoffMillis * 2, 5_000); // failed fast: probably not up yet
        } else {
          log.info("connected to the scheduler with {} executors", hello.getExecutorsCount());
          backoffMillis = 200;
          ended.await();
        }
        synchronized (this) {
          stream = null;
        }
        if (!closed) {
          log.info("stream to the scheduler ended; reconnecting in {} ms", backoffMillis);
          Thread.sleep(backoffMillis);
        }
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static WorkerMessage free(String executorId) {
    return WorkerMessage.newBuilder().setFree(ExecutorFree.newBuilder().setExecutorId(executorId)).build();
  }

  private void execute(Assignment assignment) {
    String executor = assignment.getExecutorId();
    busy.add(executor);
    CommandRunner command = new CommandRunner();
    running.put(assignment.getOperation(), command);
    try {
      send(WorkerMessage.newBuilder().setStarted(ActionStarted.newBuilder().setOperation(assignment.getOperation())).build());
      Platform offered = hello.getExecutorsList().stream().filter(e -> e.getExecutorId().equals(executor))
          .findFirst().map(Executor::getProperties).orElse(Platform.getDefaultInstance());
      ExecuteResponse response = runner.run(assignment, offered, command);
      send(WorkerMessage.newBuilder().setFinished(ActionFinished.newBuilder()
          .setOperation(assignment.getOperation()).setExecutorId(executor).setResponse(response)).build());
    } finally {
      running.remove(assignment.getOperation());
      busy.remove(executor);
      send(free(executor));
    }
  }

  /** Sends on the current stream; dropped while disconnected (the scheduler requeues the work). */
  private synchronized void send(WorkerMessage message) {
    if (stream != null) {
      try {
        stream.onNext(message);
      } catch (RuntimeException e) {
        log.debug("could not send to the scheduler: {}", e.toString());
      }
    }
  }

  /** Executors running an action now. */
  public int busyExecutors() {
    return busy.size();
  }

  /**
   * Disconnects first, so the scheduler hands the running actions to other workers, then kills
   * them here; their results are never reported.
   */
  @Override
  public void close() {
    closed = true;
    synchronized (this) {
      if (stream != null) {
        stream.onCompleted();
        stream = null;
      }
    }
    loop.interrupt();
    heartbeats.shutdownNow();
    running.values().forEach(CommandRunner::cancel);
    executors.shutdownNow();
  }

  /** Builds the Hello that describes this worker. */
  public static Hello hello(String workerId, List<Executor> executors, String storageEndpoint) {
    return Hello.newBuilder().setWorkerId(workerId).addAllExecutors(executors).setStorageEndpoint(storageEndpoint).build();
  }
}
