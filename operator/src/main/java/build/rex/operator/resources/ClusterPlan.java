package build.rex.operator.resources;

import build.rex.operator.OperatorSettings;
import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.api.RemoteExecutionClusterSpec;
import build.rex.operator.reconcile.OperatorMetrics;
import io.javaoperatorsdk.operator.api.reconciler.Context;

/**
 * What one reconciliation decided before the objects are made: the dependents read it from the
 * context, so each of them only turns a plan into its object.
 */
public final class ClusterPlan {
  private static final String KEY = ClusterPlan.class.getName();

  public final ClusterNames names;
  public final RemoteExecutionClusterSpec spec;
  public final OperatorSettings settings;
  public final OperatorMetrics metrics;
  /** Hashes of what each component's pods read at start; a change rolls them. */
  public String schedulerConfigHash = "";
  public String workerConfigHash = "";
  /** The worker count to run now: the spec's, or more while a scale-down waits for drains. */
  public int workerReplicas;
  /** Problems a dependent met but worked around, by reason: the reconciler reports them as Events. */
  public final java.util.Map<String, String> warnings = new java.util.LinkedHashMap<>();

  public ClusterPlan(RemoteExecutionCluster cluster, OperatorSettings settings, OperatorMetrics metrics) {
    this.names = ClusterNames.of(cluster);
    this.spec = cluster.getSpec();
    this.settings = settings;
    this.metrics = metrics;
    this.workerReplicas = spec.workers.replicas;
  }

  public void attachTo(Context<RemoteExecutionCluster> context) {
    context.managedWorkflowAndDependentResourceContext().put(KEY, this);
  }

  public static ClusterPlan of(Context<RemoteExecutionCluster> context) {
    return context.managedWorkflowAndDependentResourceContext().getMandatory(KEY, ClusterPlan.class);
  }

  public String schedulerImage() {
    return orDefault(spec.schedulers.image, settings.schedulerImage);
  }

  public String workerImage() {
    return orDefault(spec.workers.image, settings.workerImage);
  }

  /** The Secret with the client port's certificate, whoever makes it. */
  public String serverTlsSecret() {
    return RemoteExecutionClusterSpec.TLS_SECRET.equals(spec.tls.mode) ? spec.tls.secretName : names.serverTlsSecret();
  }

  private static String orDefault(String value, String fallback) {
    return value == null || value.isBlank() ? fallback : value;
  }
}
