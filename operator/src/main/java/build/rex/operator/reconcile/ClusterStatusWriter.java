package build.rex.operator.reconcile;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.api.RemoteExecutionClusterStatus;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.processing.event.ResourceID;

/**
 * Writes a cluster's status, and knows when not to: a status computed for a resource that was
 * deleted (or deleted and made again) meanwhile must not land on its successor.
 */
final class ClusterStatusWriter {
  private ClusterStatusWriter() {}

  /**
   * Replaces the status (PUT on /status), locked on the resourceVersion the reconciliation read:
   * the status is the operator's alone, so a field it clears is cleared, and nothing computed
   * from an older version lands unnoticed. On a conflict (the spec changed meanwhile) JOSDK
   * retries on the newer version from its cache, and that change starts another reconciliation.
   * The written resource is cached, so the next reconciliation sees this status.
   */
  static void write(RemoteExecutionCluster cluster, Context<RemoteExecutionCluster> context) {
    RemoteExecutionClusterStatus status = cluster.getStatus();
    String uid = cluster.getMetadata().getUid();
    try {
      PrimaryUpdateAndCacheUtils.updateStatusAndCacheResource(cluster, context, latest -> {
        // A conflict retries on the cached resource: never on a successor of the same name.
        if (!uid.equals(latest.getMetadata().getUid())) {
          throw new ClusterGone(cluster, "was deleted and made again");
        }
        latest.setStatus(status);
        return latest;
      });
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        throw new ClusterGone(cluster, "was deleted");
      }
      throw e;
    }
  }

  /** The resource was deleted (and perhaps made again) while {@code failure}'s reconciliation ran. */
  static boolean deletedMeanwhile(RemoteExecutionCluster cluster, Context<RemoteExecutionCluster> context,
      Exception failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ClusterGone) {
        return true;
      }
    }
    return goneFromCache(cluster, context);
  }

  /** The status had nowhere to go: the resource it was computed for no longer exists. */
  static final class ClusterGone extends RuntimeException {
    ClusterGone(RemoteExecutionCluster cluster, String what) {
      super("cluster " + cluster.getMetadata().getNamespace() + "/" + cluster.getMetadata().getName() + " " + what
          + " while it was reconciled; its status is not written");
    }
  }

  /** True when the operator's cache no longer holds this resource (the same UID) at all. */
  static boolean goneFromCache(RemoteExecutionCluster cluster, Context<RemoteExecutionCluster> context) {
    String uid = cluster.getMetadata().getUid();
    return context.getPrimaryCache().get(ResourceID.fromResource(cluster))
        .map(current -> !current.getMetadata().getUid().equals(uid))
        .orElse(true);
  }
}
