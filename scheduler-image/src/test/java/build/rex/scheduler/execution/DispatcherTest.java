package build.rex.scheduler.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Platform;
import build.rex.scheduler.cluster.WorkerStream;
import build.rex.storage.ac.ActionKey;
import build.rex.v1.Executor;
import build.rex.v1.Hello;
import build.rex.v1.SchedulerMessage;
import com.google.protobuf.util.Durations;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The dispatcher's bookkeeping under messages that cross on the wire. */
class DispatcherTest {
  @Test
  void aJobDeclinedAfterAStaleFreeGoesBackToTheQueue() {
    Dispatcher dispatcher = new Dispatcher(new PlatformMatcher(Set.of("cpu"), Set.of()),
        new Dispatcher.ExecutionSettings(Durations.fromSeconds(60), Durations.fromSeconds(60), 3,
            java.time.Duration.ofMinutes(1)), () -> "operations/test/");
    List<SchedulerMessage> sent = new CopyOnWriteArrayList<>();
    dispatcher.workerConnected(Hello.newBuilder().setWorkerId("w").addExecutors(Executor.newBuilder()
        .setExecutorId("e").setProperties(Platform.getDefaultInstance())).build(), new WorkerStream(recorder(sent)));
    dispatcher.executorFree("w", "e");
    Job job = dispatcher.submit(new ActionKey("", Digest.newBuilder().setHash("a".repeat(64)).setSizeBytes(1).build()),
        Action.getDefaultInstance(), Command.getDefaultInstance(), Platform.getDefaultInstance(), 0, List.of());
    assertEquals(1, sent.size(), "assigned");

    // The worker said "free" before it saw the assignment, then declined it (it started draining).
    dispatcher.executorFree("w", "e");
    assertEquals(1, sent.size(), "nothing else is queued");
    dispatcher.declined("w", job.name, "e");
    assertEquals(2, sent.size(), "the declined job is queued again and offered to the free executor");
    assertEquals(job.name, sent.get(1).getAssignment().getOperation());
    dispatcher.declined("w", "operations/test/unknown", "e");
    assertEquals(0, dispatcher.queued());
  }

  private static StreamObserver<SchedulerMessage> recorder(List<SchedulerMessage> sent) {
    return new StreamObserver<>() {
      @Override
      public void onNext(SchedulerMessage message) {
        if (message.hasAssignment()) {
          sent.add(message);
        }
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }
}
