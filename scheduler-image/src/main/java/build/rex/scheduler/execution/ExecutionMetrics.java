package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.bazel.remote.execution.v2.Platform;
import com.google.protobuf.util.Timestamps;
import com.google.rpc.Code;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The life of actions as meters (docs/metrics.md): how long each waited in the queue and ran,
 * by the platform of the executor that took it (configured on workers, so the label's values
 * are few; a client's requested platform would let any client add series), and how each ended.
 */
public final class ExecutionMetrics implements Dispatcher.Observer {
  /** How an Execute ended, as the {@code outcome} label. */
  public enum Outcome {
    SUCCESS, EXIT_NONZERO, TIMEOUT, CANCELLED, ERROR, CACHED;

    public static Outcome of(ExecuteResponse response) {
      int code = response.getStatus().getCode();
      if (code == Code.DEADLINE_EXCEEDED_VALUE) {
        return TIMEOUT;
      }
      if (code == Code.CANCELLED_VALUE) {
        return CANCELLED;
      }
      if (code != Code.OK_VALUE) {
        return ERROR;
      }
      return response.getResult().getExitCode() == 0 ? SUCCESS : EXIT_NONZERO;
    }

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final MeterRegistry registry;

  public ExecutionMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (Outcome outcome : Outcome.values()) {
      counter(outcome); // every outcome is a series from the start, so a rate over it is never absent
    }
  }

  private Counter counter(Outcome outcome) {
    return Counter.builder("rex.execution.actions").description("Executions that ended, by how")
        .tag("outcome", outcome.label()).register(registry);
  }

  /** The platform as a label: its properties sorted, {@code name=value} joined by commas; "" is none. */
  public static String label(Platform platform) {
    return platform.getPropertiesList().stream()
        .sorted(Comparator.comparing(Platform.Property::getName).thenComparing(Platform.Property::getValue))
        .map(p -> p.getName() + "=" + p.getValue()).collect(Collectors.joining(","));
  }

  @Override
  public void assigned(Job job, String worker, String executorId, Platform executor, long queuedNanos) {
    Timer.builder("rex.execution.queue.wait").description("Time an action waited in the queue before an executor took it")
        .tag("platform", label(executor)).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofHours(1)).register(registry).record(Duration.ofNanos(queuedNanos));
  }

  @Override
  public void ran(Platform executor, ExecutedActionMetadata metadata) {
    if (!metadata.hasWorkerStartTimestamp() || !metadata.hasWorkerCompletedTimestamp()) {
      return;
    }
    Duration took = Duration.ofMillis(Timestamps.toMillis(metadata.getWorkerCompletedTimestamp())
        - Timestamps.toMillis(metadata.getWorkerStartTimestamp()));
    Timer.builder("rex.execution.duration")
        .description("Time an action took on its worker: inputs, run, outputs (ExecutedActionMetadata)")
        .tag("platform", label(executor)).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofHours(3)).register(registry).record(took.isNegative() ? Duration.ZERO : took);
  }

  @Override
  public void completed(ExecuteResponse response) {
    counter(response.getCachedResult() ? Outcome.CACHED : Outcome.of(response)).increment();
  }
}
