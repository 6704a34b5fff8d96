package build.rex.operator.reconcile;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the operator does, for Prometheus: reconciliations by result, their durations, and actions
 * on clusters' objects; each action also gets one log line.
 */
public final class OperatorMetrics {
  private static final Logger log = LoggerFactory.getLogger("build.rex.operator.actions");
  private final MeterRegistry registry;

  public OperatorMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** result: ok, invalid (spec problems), error (an exception; retried). */
  public void reconciled(String result, Duration took) {
    Counter.builder("rex_operator_reconciliations").tag("result", result)
        .description("Reconciliations of RemoteExecutionClusters").register(registry).increment();
    Timer.builder("rex_operator_reconcile_duration").description("How long one reconciliation took")
        .register(registry).record(took);
  }

  public void error() {
    Counter.builder("rex_operator_reconcile_errors").description("Reconciliations that failed and will be retried")
        .register(registry).increment();
  }

  /** One action on a cluster: logged and counted. */
  public void action(String namespace, String cluster, String action, String what) {
    log.info("cluster {}/{}: {} {}", namespace, cluster, action, what);
    Counter.builder("rex_operator_actions").tag("action", action).description("Changes the operator made")
        .register(registry).increment();
  }
}
