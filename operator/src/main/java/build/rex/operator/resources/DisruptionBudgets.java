package build.rex.operator.resources;

import build.rex.operator.api.RemoteExecutionCluster;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;

/** Node drains and other voluntary evictions take pods one at a time, and never the last copy of a blob. */
public final class DisruptionBudgets {
  private DisruptionBudgets() {}

  public static final class Scheduler extends ClusterDependent<PodDisruptionBudget> {
    public Scheduler() {
      super(PodDisruptionBudget.class, Labels.SCHEDULER, ClusterNames::schedulerBudget);
    }

    @Override
    protected PodDisruptionBudget desired(ClusterPlan plan, RemoteExecutionCluster primary,
        Context<RemoteExecutionCluster> context) {
      return budget(plan, Labels.SCHEDULER, 1, metadata(plan));
    }
  }

  /** Fewer than replicationFactor workers away at once: every blob keeps a copy on a running worker. */
  public static final class Worker extends ClusterDependent<PodDisruptionBudget> {
    public Worker() {
      super(PodDisruptionBudget.class, Labels.WORKER, ClusterNames::workerBudget);
    }

    @Override
    protected PodDisruptionBudget desired(ClusterPlan plan, RemoteExecutionCluster primary,
        Context<RemoteExecutionCluster> context) {
      int away = Math.max(1, plan.spec.cas.replicationFactor - 1);
      return budget(plan, Labels.WORKER, away, metadata(plan));
    }
  }

  private static PodDisruptionBudget budget(ClusterPlan plan, String component, int maxUnavailable,
      io.fabric8.kubernetes.api.model.ObjectMeta metadata) {
    return new PodDisruptionBudgetBuilder().withMetadata(metadata)
        .withNewSpec()
        .withMaxUnavailable(new IntOrString(maxUnavailable))
        .withNewSelector().withMatchLabels(Labels.selector(plan.names, component)).endSelector()
        .endSpec().build();
  }
}
