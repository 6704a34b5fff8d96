package build.rex.operator.reconcile;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.resources.ClusterNames;
import build.rex.operator.resources.Labels;
import io.javaoperatorsdk.operator.api.reconciler.Context;

/** The worker pods as they run, for scaling decisions (not the StatefulSet's intent). */
final class WorkerPods {
  private WorkerPods() {}

  /**
   * Workers whose StatefulSet is gone while they run (being replaced, or deleted by hand with its
   * pods orphaned): as many as the highest ordinal, so a new StatefulSet does not drop any of them
   * undrained. Null when there are none: a new cluster.
   */
  static Integer runningWithoutStatefulSet(ClusterNames names, Context<RemoteExecutionCluster> context) {
    String prefix = names.workerStatefulSet() + "-";
    return context.getClient().pods().inNamespace(names.namespace())
        .withLabels(Labels.selector(names, Labels.WORKER)).list().getItems().stream()
        .map(pod -> pod.getMetadata().getName())
        .filter(name -> name.startsWith(prefix) && name.substring(prefix.length()).matches("\\d+"))
        .map(name -> Integer.parseInt(name.substring(prefix.length())) + 1)
        .max(Integer::compare).orElse(null);
  }

  static boolean exists(Context<RemoteExecutionCluster> context, String pod) {
    return context.getClient().pods().inNamespace(context.getPrimaryResource().getMetadata().getNamespace())
        .withName(pod).get() != null;
  }
}
