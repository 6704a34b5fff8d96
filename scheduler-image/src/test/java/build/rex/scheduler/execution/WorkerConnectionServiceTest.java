package build.rex.scheduler.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.ActionKey;
import build.rex.storage.ac.InMemoryActionCache;
import build.rex.v1.Executor;
import build.rex.v1.Hello;
import build.rex.v1.ResultNotCached;
import build.rex.v1.SchedulerMessage;
import build.rex.v1.WorkerMessage;
import com.google.protobuf.util.Durations;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WorkerConnectionServiceTest {
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final ExecutorService writers = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    timer.shutdownNow();
    writers.shutdownNow();
  }

  @Test
  void aResultTheWorkerCouldNotStoreIsStoredByTheScheduler() throws Exception {
    Map<ActionKey, ActionResult> durable = new ConcurrentHashMap<>();
    ActionCache workersCache = new ActionCache() {
      @Override
      public Optional<ActionResult> get(ActionKey key) {
        return Optional.ofNullable(durable.get(key));
      }

      @Override
      public void put(ActionKey key, ActionResult result) {
        durable.put(key, result);
      }
    };
    Dispatcher dispatcher = new Dispatcher(new PlatformMatcher(Set.of(), Set.of()),
        new Dispatcher.ExecutionSettings(Durations.fromSeconds(60), Durations.fromSeconds(60), 3,
            Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofMillis(5), Duration.ofMillis(20), 1 << 20),
        () -> "10.0.0.1:8981", timer, Runnable::run);
    WorkerConnectionService service = new WorkerConnectionService(dispatcher, new InMemoryActionCache(workersCache, 10),
        writers);
    StreamObserver<WorkerMessage> fromWorker = service.connect(new StreamObserver<SchedulerMessage>() {
      @Override
      public void onNext(SchedulerMessage message) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    });
    fromWorker.onNext(WorkerMessage.newBuilder().setHello(Hello.newBuilder().setWorkerId("w")
        .addExecutors(Executor.newBuilder().setExecutorId("e"))).build());

    Digest action = Digest.newBuilder().setHash("a".repeat(64)).setSizeBytes(10).build();
    ActionResult result = ActionResult.newBuilder().setExitCode(0).setStdoutRaw(com.google.protobuf.ByteString.copyFromUtf8("made")).build();
    fromWorker.onNext(WorkerMessage.newBuilder().setResultNotCached(ResultNotCached.newBuilder()
        .setInstanceName("main").setActionDigest(action).setResult(result).setOperation("operations/main/x")).build());

    ActionKey key = new ActionKey("main", action);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!durable.containsKey(key)) {
      assertTrue(System.nanoTime() < deadline, "the scheduler never stored the result");
      Thread.sleep(5);
    }
    assertEquals(result, durable.get(key));
  }
}
