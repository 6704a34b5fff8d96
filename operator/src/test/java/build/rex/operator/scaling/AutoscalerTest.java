package build.rex.operator.scaling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import build.rex.operator.api.RemoteExecutionClusterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AutoscalerTest {
  private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");

  private static RemoteExecutionClusterSpec.Workers workers(double target) {
    RemoteExecutionClusterSpec.Workers workers = new RemoteExecutionClusterSpec.Workers();
    workers.autoscale.enabled = true;
    workers.autoscale.minReplicas = 2;
    workers.autoscale.maxReplicas = 8;
    workers.autoscale.targetQueuedPerExecutor = target;
    workers.autoscale.scaleUpDelay = "30s";
    workers.autoscale.scaleDownDelay = "5m";
    RemoteExecutionClusterSpec.ExecutorPool big = new RemoteExecutionClusterSpec.ExecutorPool();
    big.name = "big";
    big.count = 1;
    big.properties = Map.of("OSFamily", "linux", "size", "big");
    workers.executors = List.of(new RemoteExecutionClusterSpec.ExecutorPool(), big); // default: 2 per worker
    return workers;
  }

  private static QueueLoad load(int linux, int big, int busyDefault) {
    return new QueueLoad(List.of(new QueueLoad.Queued(Map.of("OSFamily", "linux"), linux),
        new QueueLoad.Queued(Map.of("OSFamily", "linux", "size", "big"), big),
        new QueueLoad.Queued(Map.of("OSFamily", "windows"), 50)),
        List.of(new QueueLoad.Executors(QueueLoad.platform("OSFamily=linux,cpu=1,memory=2Gi,pool=default"), 4, busyDefault)));
  }

  @Test
  void thePoolsThatCanRunWhatWaitsDecideWithinTheBounds() {
    // 9 waiting for any linux executor; each worker has 3 (2 default, 1 big); 1 may wait per executor.
    assertEquals(3, Autoscaler.recommend(workers(1), load(9, 0, 0)));
    // Twice as many may wait: 5 executors, 2 workers; but 8 default executors are busy, and they stay.
    assertEquals(2, Autoscaler.recommend(workers(2), load(9, 0, 0)));
    assertEquals(4, Autoscaler.recommend(workers(2), load(9, 0, 8)));
    // Only the big pool (one per worker) runs what asks for size=big: 3 waiting, 3 workers.
    assertEquals(3, Autoscaler.recommend(workers(1), load(4, 3, 0)));
    // None may wait: every queued action an executor beside the busy ones.
    assertEquals(4, Autoscaler.recommend(workers(0), load(9, 0, 3)));
    assertEquals(3, Autoscaler.recommend(workers(1), load(9, 0, 3)));
    // The bounds hold; the 50 waiting for windows, which no worker runs, count for nothing.
    assertEquals(2, Autoscaler.recommend(workers(1), load(0, 0, 0)));
    assertEquals(8, Autoscaler.recommend(workers(1), load(100, 0, 0)));
  }

  @Test
  void aRiseMustLastTheUpDelayAndAFallTheDownDelay() {
    Autoscaler autoscaler = new Autoscaler();
    RemoteExecutionClusterSpec.Workers workers = workers(1);
    assertEquals(2, autoscaler.decide("c", workers, load(0, 0, 0), 2, T0).replicas());
    Autoscaler.Decision rising = autoscaler.decide("c", workers, load(15, 0, 0), 2, T0.plusSeconds(10));
    assertEquals(2, rising.replicas());
    assertEquals(5, rising.recommended());
    assertEquals(2, autoscaler.decide("c", workers, load(15, 0, 0), 2, T0.plusSeconds(39)).replicas());
    assertEquals(5, autoscaler.decide("c", workers, load(15, 0, 0), 2, T0.plusSeconds(40)).replicas());
    // The queue empties: held for 5 minutes after the last sample that asked for 5.
    assertEquals(5, autoscaler.decide("c", workers, load(0, 0, 0), 5, T0.plusSeconds(60)).replicas());
    assertEquals(5, autoscaler.decide("c", workers, load(0, 0, 0), 5, T0.plusSeconds(359)).replicas());
    assertEquals(2, autoscaler.decide("c", workers, load(0, 0, 0), 5, T0.plusSeconds(360)).replicas());
  }

  @Test
  void aFlappingQueueDoesNotFlapTheCount() {
    Autoscaler autoscaler = new Autoscaler();
    RemoteExecutionClusterSpec.Workers workers = workers(1);
    int current = 5;
    Instant now = T0;
    autoscaler.decide("c", workers, load(15, 0, 0), current, now);
    for (int i = 0; i < 40; i++) { // 20 s full, 20 s empty, for 20 minutes
      now = now.plus(Duration.ofSeconds(20));
      int replicas = autoscaler.decide("c", workers, load(i % 2 == 0 ? 0 : 15, 0, 0), current, now).replicas();
      assertEquals(5, replicas, "after " + i);
    }
    // A count outside the bounds is brought back at once.
    assertEquals(8, autoscaler.decide("d", workers, load(0, 0, 0), 12, now).replicas());
  }
}
