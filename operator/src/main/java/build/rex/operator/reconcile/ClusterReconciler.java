package build.rex.operator.reconcile;

import build.rex.operator.OperatorSettings;
import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.api.RemoteExecutionClusterStatus;
import build.rex.operator.resources.BackupCredentials;
import build.rex.operator.resources.ClusterPlan;
import build.rex.operator.resources.ClusterWarnings;
import build.rex.operator.resources.ConfigMaps;
import build.rex.operator.resources.DisruptionBudgets;
import build.rex.operator.resources.NetworkPolicies;
import build.rex.operator.resources.SchedulerDeployment;
import build.rex.operator.resources.Services;
import build.rex.operator.resources.WorkerStatefulSet;
import build.rex.operator.scaling.SchedulerAdmin;
import build.rex.operator.tls.CaSecret;
import build.rex.operator.tls.CertManagerCertificate;
import build.rex.operator.tls.ClientTlsSecret;
import build.rex.operator.tls.InternalTlsSecret;
import build.rex.operator.tls.ServerTlsSecret;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Turns a RemoteExecutionCluster into its objects and keeps them so. The objects and their order
 * are declared below; each reconciliation checks the spec (a bad one leaves the running cluster
 * alone), makes one {@link ClusterPlan}, runs the workflow on it and writes the status.
 */
@Workflow(explicitInvocation = true, dependents = {
    @Dependent(name = "ca", type = CaSecret.class),
    @Dependent(name = "internal-tls", type = InternalTlsSecret.class, dependsOn = "ca"),
    @Dependent(name = "client-tls", type = ClientTlsSecret.class, dependsOn = "ca"),
    @Dependent(name = "client-service", type = Services.Client.class),
    @Dependent(name = "server-tls", type = ServerTlsSecret.class, dependsOn = {"ca", "client-service"},
        reconcilePrecondition = ServerTlsSecret.Generated.class),
    @Dependent(name = "cert-manager-certificate", type = CertManagerCertificate.class,
        reconcilePrecondition = CertManagerCertificate.Requested.class),
    @Dependent(name = "scheduler-config", type = ConfigMaps.Scheduler.class),
    @Dependent(name = "worker-config", type = ConfigMaps.Worker.class),
    @Dependent(name = "scheduler-peers", type = Services.SchedulerPeers.class),
    @Dependent(name = "worker-peers", type = Services.WorkerPeers.class),
    @Dependent(name = "backup-credentials", type = BackupCredentials.class,
        readyPostcondition = BackupCredentials.Present.class),
    @Dependent(name = "schedulers", type = SchedulerDeployment.class,
        dependsOn = {"scheduler-config", "internal-tls", "client-tls", "backup-credentials"},
        readyPostcondition = SchedulerDeployment.Ready.class),
    @Dependent(name = "workers", type = WorkerStatefulSet.class, dependsOn = {"worker-config", "internal-tls"},
        readyPostcondition = WorkerStatefulSet.Ready.class),
    @Dependent(name = "scheduler-budget", type = DisruptionBudgets.Scheduler.class),
    @Dependent(name = "worker-budget", type = DisruptionBudgets.Worker.class),
    @Dependent(name = "scheduler-policy", type = NetworkPolicies.Scheduler.class,
        reconcilePrecondition = NetworkPolicies.Enabled.class),
    @Dependent(name = "worker-policy", type = NetworkPolicies.Worker.class,
        reconcilePrecondition = NetworkPolicies.Enabled.class),
})
@ControllerConfiguration(name = "rex-cluster",
    maxReconciliationInterval = @MaxReconciliationInterval(interval = 10, timeUnit = TimeUnit.MINUTES))
public final class ClusterReconciler implements Reconciler<RemoteExecutionCluster> {
  private final OperatorSettings settings;
  private final OperatorMetrics metrics;
  private final ClusterPlanner planner;
  private final ClusterStatusReport report;
  private final ScaleDownFollowUp followUp;
  private final Clock clock;

  public ClusterReconciler(OperatorSettings settings, OperatorMetrics metrics, SchedulerAdmin admin,
      ClusterEvents events, Clock clock) {
    this.settings = settings;
    this.metrics = metrics;
    this.planner = new ClusterPlanner(settings, metrics, admin, clock);
    this.report = new ClusterStatusReport(metrics, events, admin);
    this.followUp = new ScaleDownFollowUp(metrics);
    this.clock = clock;
  }

  @Override
  public UpdateControl<RemoteExecutionCluster> reconcile(RemoteExecutionCluster cluster,
      Context<RemoteExecutionCluster> context) {
    long started = System.nanoTime();
    RemoteExecutionClusterStatus status = cluster.getStatus() != null ? cluster.getStatus() : new RemoteExecutionClusterStatus();
    cluster.setStatus(status);
    status.observedGeneration = cluster.getMetadata().getGeneration();
    List<String> problems = SpecProblems.of(cluster.getSpec());
    if (!problems.isEmpty()) {
      report.invalid(cluster, problems);
      metrics.reconciled("invalid", Duration.ofNanos(System.nanoTime() - started));
      ClusterStatusWriter.write(cluster, context);
      return UpdateControl.noUpdate();
    }

    ClusterPlan plan = planner.plan(cluster, context);
    plan.attachTo(context);
    ClusterWarnings warnings = ClusterWarnings.attachTo(context);
    Integer workersBefore = context.getSecondaryResource(StatefulSet.class).map(set -> set.getSpec().getReplicas()).orElse(null);
    followUp.restartWorkersKeptAfterDrain(plan, status, context);
    var result = context.managedWorkflowAndDependentResourceContext().reconcileManagedWorkflow();
    // Not watched, so looked at again soon: the user's Secret the schedulers wait for.
    boolean waitsOnUnwatched = result.getNotReadyDependents().stream().anyMatch(BackupCredentials.class::isInstance);
    report.warnings(plan, cluster, warnings);
    boolean ready = report.applied(plan, cluster, context);
    metrics.reconciled("ok", Duration.ofNanos(System.nanoTime() - started));
    if (ClusterStatusWriter.goneFromCache(cluster, context)) {
      return UpdateControl.noUpdate(); // deleted meanwhile; see updateErrorStatus
    }
    followUp.endForcedScaleDown(plan, cluster, workersBefore, context);
    ClusterStatusWriter.write(cluster, context);
    return UpdateControl.<RemoteExecutionCluster>noUpdate().rescheduleAfter(nextLook(plan, ready, waitsOnUnwatched));
  }

  /**
   * Soon while drains or the autoscaler wait on the schedulers, or the schedulers on a Secret;
   * in time for the CAs' next step; otherwise at leisure.
   */
  private Duration nextLook(ClusterPlan plan, boolean ready, boolean waitsOnUnwatched) {
    Duration next = Duration.ofSeconds(ready ? 600 : 30);
    if (plan.scaling.waitingFor() != null || plan.autoscale != null || waitsOnUnwatched) {
      next = Duration.ofSeconds(settings.drainPollSeconds);
    }
    Duration untilCaStep = Duration.between(clock.instant(), plan.authorities.nextStepAt()).plusSeconds(1);
    return untilCaStep.compareTo(next) < 0 ? (untilCaStep.isNegative() ? Duration.ofSeconds(1) : untilCaStep) : next;
  }

  @Override
  public ErrorStatusUpdateControl<RemoteExecutionCluster> updateErrorStatus(RemoteExecutionCluster cluster,
      Context<RemoteExecutionCluster> context, Exception e) {
    metrics.error();
    if (ClusterStatusWriter.deletedMeanwhile(cluster, context, e)) {
      // Deleted (and perhaps made again) while this reconciliation ran: the status belongs to a
      // resource that no longer exists, and a patch computed against it must not reach its successor.
      return ErrorStatusUpdateControl.noStatusUpdate();
    }
    if (cluster.getStatus() == null) {
      cluster.setStatus(new RemoteExecutionClusterStatus());
    }
    report.degraded(cluster, "ReconcileError", "reconciliation failed and is retried: " + e.getMessage());
    try {
      ClusterStatusWriter.write(cluster, context);
    } catch (RuntimeException statusFailure) {
      // The reconciliation is retried either way; its error is the one worth reporting.
      e.addSuppressed(statusFailure);
    }
    return ErrorStatusUpdateControl.noStatusUpdate();
  }
}
