package build.rex.operator.reconcile;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.api.RemoteExecutionClusterStatus;
import build.rex.operator.resources.ClusterPlan;
import io.javaoperatorsdk.operator.api.reconciler.Context;

/** What a scale-down leaves to do once the workflow ran: workers drained in vain restart, a forced one is one-shot. */
final class ScaleDownFollowUp {
  private final OperatorMetrics metrics;

  ScaleDownFollowUp(OperatorMetrics metrics) {
    this.metrics = metrics;
  }

  /** Workers asked to drain for a scale-down that was then called off restart, so they take work again. */
  void restartWorkersKeptAfterDrain(ClusterPlan plan, RemoteExecutionClusterStatus status,
      Context<RemoteExecutionCluster> context) {
    if (status.drainingWorkers != null) {
      for (String worker : status.drainingWorkers) {
        int ordinal = Integer.parseInt(worker.substring(worker.lastIndexOf('-') + 1));
        if (ordinal < plan.workerReplicas() && !plan.scaling.draining().contains(worker)) {
          context.getClient().pods().inNamespace(plan.names.namespace()).withName(worker).delete();
          metrics.action(plan.names.namespace(), plan.names.cluster(), "restarted",
              "Pod " + worker + " (drained for a scale-down that was called off)");
        }
      }
    }
    status.drainingWorkers = plan.scaling.waitingFor() == null ? null : plan.scaling.draining();
  }

  /** A forced scale-down done: the annotation goes, so the next one drains again. */
  void endForcedScaleDown(ClusterPlan plan, RemoteExecutionCluster cluster, Integer before,
      Context<RemoteExecutionCluster> context) {
    if (!ClusterPlanner.forced(cluster) || before == null || plan.workerReplicas() >= before) {
      return;
    }
    metrics.action(plan.names.namespace(), plan.names.cluster(), "forced scale-down",
        "from " + before + " to " + plan.workerReplicas() + " workers without draining");
    context.getClient().resources(RemoteExecutionCluster.class).inNamespace(plan.names.namespace())
        .withName(plan.names.cluster()).edit(latest -> {
          latest.getMetadata().getAnnotations().remove(RemoteExecutionCluster.FORCE_SCALE_DOWN);
          return latest;
        });
  }
}
