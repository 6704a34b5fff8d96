package build.rex.operator.resources;

import build.rex.operator.OperatorSettings;
import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.api.RemoteExecutionClusterSpec;
import build.rex.operator.reconcile.OperatorMetrics;
import build.rex.operator.scaling.Autoscaler;
import build.rex.operator.scaling.WorkerScaling;
import build.rex.operator.tls.CertificateAuthorities;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.time.Instant;

/**
 * What one reconciliation decided before any object is made, computed once and never changed:
 * the CAs, the rendered config files and their hashes, the worker count. The dependents read it
 * from the context, so each of them only turns the plan into its object.
 */
public final class ClusterPlan {
  private static final String KEY = ClusterPlan.class.getName();

  public final ClusterNames names;
  public final RemoteExecutionClusterSpec spec;
  public final OperatorSettings settings;
  public final OperatorMetrics metrics;
  /** The time this plan was made for (certificates are issued and renewed against it). */
  public final Instant now;
  public final CertificateAuthorities authorities;
  public final String schedulerConfig;
  public final String workerConfig;
  /** Hashes of what each component's pods read at start; a change rolls them. */
  public final String schedulerConfigHash;
  public final String workerConfigHash;
  /** The worker count to run now and why: the spec's or the autoscaler's, or more while a scale-down drains. */
  public final WorkerScaling.Decision scaling;
  /** What the autoscaler wants and why; null when the spec fixes the worker count. */
  public final Autoscaler.Decision autoscale;
  /** Where the operator reaches the cluster's schedulers' admin API. */
  public final java.net.URI schedulerAdmin;

  public ClusterPlan(RemoteExecutionCluster cluster, OperatorSettings settings, OperatorMetrics metrics, Instant now,
      CertificateAuthorities authorities, String schedulerConfig, String workerConfig, String schedulerConfigHash,
      String workerConfigHash, WorkerScaling.Decision scaling, Autoscaler.Decision autoscale,
      java.net.URI schedulerAdmin) {
    this.names = ClusterNames.of(cluster);
    this.spec = cluster.getSpec();
    this.settings = settings;
    this.metrics = metrics;
    this.now = now;
    this.authorities = authorities;
    this.schedulerConfig = schedulerConfig;
    this.workerConfig = workerConfig;
    this.schedulerConfigHash = schedulerConfigHash;
    this.workerConfigHash = workerConfigHash;
    this.scaling = scaling;
    this.autoscale = autoscale;
    this.schedulerAdmin = schedulerAdmin;
  }

  public int workerReplicas() {
    return scaling.replicas();
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
    return serverTlsSecret(names, spec);
  }

  public static String serverTlsSecret(ClusterNames names, RemoteExecutionClusterSpec spec) {
    return RemoteExecutionClusterSpec.TLS_SECRET.equals(spec.tls.mode) ? spec.tls.secretName : names.serverTlsSecret();
  }

  private static String orDefault(String value, String fallback) {
    return value == null || value.isBlank() ? fallback : value;
  }
}
