package build.rex.operator;

import build.rex.operator.reconcile.ClusterEvents;
import build.rex.operator.reconcile.ClusterReconciler;
import build.rex.operator.reconcile.OperatorMetrics;
import build.rex.operator.scaling.SchedulerAdmin;
import build.rex.operator.scaling.WorkerScaling;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashSet;

/** The operator wired together: JOSDK with the cluster reconciler, on a given API server. */
public final class RexOperator implements AutoCloseable {
  private final Operator operator;

  private RexOperator(Operator operator) {
    this.operator = operator;
  }

  /**
   * @param informerStopped called when a watch stops for good (JOSDK's default would exit the
   *     JVM); the process exits so Kubernetes restarts it, tests only record it
   */
  public static RexOperator start(KubernetesClient client, OperatorSettings settings, MeterRegistry registry,
      SchedulerAdmin admin, java.util.function.Consumer<Throwable> informerStopped) {
    Operator operator = new Operator(overrides -> overrides
        .withKubernetesClient(client)
        .withInformerStoppedHandler((informer, cause) -> informerStopped.accept(cause))
        .withCloseClientOnStop(false)
        // Plain updates and merge patches: they work on every API server (and fabric8's mock
        // server); the operator owns these objects outright, so there is no field ownership to share.
        .withSSABasedCreateUpdateMatchForDependentResources(false)
        .withUseSSAToPatchPrimaryResource(false));
    ClusterReconciler reconciler = new ClusterReconciler(settings, new OperatorMetrics(registry),
        new WorkerScaling(admin), new ClusterEvents(client));
    operator.register(reconciler, configuration -> {
      if (settings.namespaces.isEmpty()) {
        configuration.watchingAllNamespaces();
      } else {
        configuration.settingNamespaces(new HashSet<>(settings.namespaces));
      }
    });
    operator.start();
    return new RexOperator(operator);
  }

  /** True once every informer has synced and is watching. */
  public boolean healthy() {
    return operator.getRuntimeInfo().isStarted() && operator.getRuntimeInfo().allEventSourcesAreHealthy();
  }

  /** The event sources that are not healthy, by controller, for logs and probes. */
  public String unhealthy() {
    return operator.getRuntimeInfo().unhealthyEventSources().toString();
  }

  @Override
  public void close() {
    operator.stop();
  }
}
