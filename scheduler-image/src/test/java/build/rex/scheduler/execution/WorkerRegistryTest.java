package build.rex.scheduler.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.rex.scheduler.cluster.WorkerStream;
import build.rex.storage.replication.ClusterStorage;
import build.rex.storage.replication.RateLimiter;
import build.rex.v1.Hello;
import build.rex.v1.SchedulerMessage;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The membership a scheduler builds from its workers' streams, and when it is complete. */
class WorkerRegistryTest {
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final ClusterStorage storage = new ClusterStorage(address -> {
    ManagedChannel channel = io.grpc.ManagedChannelBuilder.forTarget("127.0.0.1:1").usePlaintext().build(); // never called
    channels.add(channel);
    return channel;
  }, keep -> { }, null, null, null, new RateLimiter(1 << 20));
  private final List<String> lost = new ArrayList<>();
  private long now = 1;

  @AfterEach
  void close() {
    channels.forEach(ManagedChannel::shutdownNow);
    storage.close();
  }

  private WorkerRegistry registry(Duration settleAtMost) {
    return new WorkerRegistry(new Object(), new WorkerRegistry.Settings(2, Duration.ofSeconds(10), settleAtMost, () -> now),
        storage::update, (worker, why) -> lost.add(worker.id));
  }

  private static Hello hello(String id, String... knownMembers) {
    return Hello.newBuilder().setWorkerId(id).setStorageEndpoint(id + ":1").addAllKnownMembers(List.of(knownMembers)).build();
  }

  @Test
  void aRestartedSchedulerIsSettledOnlyOnceEveryMemberItsWorkersKnowHasRegistered() {
    WorkerRegistry registry = registry(Duration.ofHours(1));
    assertFalse(registry.settled(), "no worker yet");
    registry.connected(hello("w0", "w0", "w1", "w2"), new WorkerStream(sink()));
    assertFalse(registry.settled(), "w1 and w2 exist but have not registered here yet");
    registry.connected(hello("w1", "w0", "w1", "w2"), new WorkerStream(sink()));
    assertFalse(registry.settled());
    registry.connected(hello("w2", "w0", "w1", "w2"), new WorkerStream(sink()));
    assertTrue(registry.settled());
    registry.gone("w2", null, "ignored: another stream");
    assertEquals(3, registry.size());
    assertTrue(registry.settled(), "once settled, it stays so");
  }

  @Test
  void aFirstStartOrAMemberThatNeverComesBackDoesNotKeepItUnready() {
    WorkerRegistry fresh = registry(Duration.ofHours(1));
    fresh.connected(hello("w0"), new WorkerStream(sink()));
    assertTrue(fresh.settled(), "a new cluster: its first worker knows no members yet");

    WorkerRegistry waiting = registry(Duration.ZERO);
    waiting.connected(hello("w0", "w0", "dead"), new WorkerStream(sink()));
    now += 1;
    assertTrue(waiting.settled(), "after the settle time it is ready with the members it has");
  }

  @Test
  void aSilentWorkerIsLostButAStalledSchedulerDoesNotBlameItsWorkers() {
    WorkerRegistry registry = registry(Duration.ZERO);
    registry.connected(hello("w0"), new WorkerStream(sink()));
    registry.connected(hello("w1"), new WorkerStream(sink()));
    for (int second = 1; second <= 20; second++) { // sweeps on time; w1 keeps talking, w0 is silent
      now = Duration.ofSeconds(second).toNanos();
      registry.seen("w1");
      registry.sweep();
    }
    assertEquals(List.of("w0"), lost, "silent for more than 10 s");
    assertEquals(1, registry.size());

    now += Duration.ofSeconds(12).toNanos(); // this scheduler was stopped for 12 s: nobody was heard
    registry.sweep();
    assertEquals(List.of("w0"), lost, "w1's silence was the scheduler's own");
    for (int second = 1; second <= 11; second++) { // back on time, and w1 is silent now
      now += Duration.ofSeconds(1).toNanos();
      registry.sweep();
    }
    assertEquals(List.of("w0", "w1"), lost);
  }

  @Test
  void aWorkerThatConnectsAgainIsOneWorkerAndItsOldStreamIsEnded() {
    WorkerRegistry registry = registry(Duration.ZERO);
    List<io.grpc.Status> ended = new ArrayList<>();
    registry.connected(hello("w0"), new WorkerStream(new StreamObserver<>() {
      @Override
      public void onNext(SchedulerMessage value) {}

      @Override
      public void onError(Throwable t) {
        ended.add(io.grpc.Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {}
    }));
    WorkerStream second = new WorkerStream(sink());
    registry.connected(hello("w0"), second);
    assertEquals(List.of("w0"), lost, "the first connection's running jobs are handed back");
    assertEquals(io.grpc.Status.Code.ABORTED, ended.get(0).getCode());
    assertEquals(1, registry.size());
    assertEquals(List.of("w0"), storage.members().stream().map(ClusterStorage.Member::id).toList());
    registry.gone("w0", second, "disconnected");
    assertEquals(0, registry.size());
    assertTrue(storage.members().isEmpty(), "the storage view follows the membership");
  }

  private static StreamObserver<SchedulerMessage> sink() {
    return new StreamObserver<>() {
      @Override
      public void onNext(SchedulerMessage value) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }
}
