package build.rex.operator.resources;

import build.rex.operator.api.RemoteExecutionCluster;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.util.List;
import java.util.Map;

/**
 * The workers: a StatefulSet, so each keeps its name (which decides the blobs it owns) and its
 * volume across restarts. Its replica count comes from the plan, which holds a scale-down back
 * until the workers that go are drained.
 */
public final class WorkerStatefulSet extends ClusterDependent<StatefulSet> {
  static final String CAS_VOLUME = "cas";

  public WorkerStatefulSet() {
    super(StatefulSet.class, Labels.WORKER, ClusterNames::workerStatefulSet);
  }

  @Override
  protected StatefulSet desired(ClusterPlan plan, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    ClusterNames names = plan.names;
    Map<String, String> selector = Labels.selector(names, Labels.WORKER);
    int graceSeconds = 60 + 30; // the worker's own drain limit (cluster.shutdownGraceSeconds) and time to stop
    return new StatefulSetBuilder().withMetadata(metadata(plan))
        .withNewSpec()
        .withReplicas(plan.workerReplicas)
        .withServiceName(names.workerPeersService())
        // All at once at start; scale-down still removes the highest ordinals, after the operator drained them.
        .withPodManagementPolicy("Parallel")
        .withNewSelector().withMatchLabels(selector).endSelector()
        .withNewPersistentVolumeClaimRetentionPolicy()
        .withWhenDeleted(plan.spec.workers.storage.whenDeleted)
        // A worker is drained before it is scaled away: its blobs are elsewhere, its volume is waste.
        .withWhenScaled("Delete")
        .endPersistentVolumeClaimRetentionPolicy()
        .withVolumeClaimTemplates(volumeClaim(plan))
        .withNewTemplate()
        .withNewMetadata().withLabels(Labels.of(names, Labels.WORKER))
        .withAnnotations(Map.of(PodParts.CONFIG_HASH, plan.workerConfigHash)).endMetadata()
        .withNewSpec()
        .withAffinity(PodParts.spreadOverNodes(selector))
        .withTerminationGracePeriodSeconds((long) graceSeconds)
        .addNewContainer()
        .withName("worker")
        .withImage(plan.workerImage())
        .withArgs("--config", ClusterNames.CONFIG_DIR + "/" + ConfigFiles.WORKER_FILE)
        .withPorts(PodParts.port("grpc", ClusterNames.WORKER_PORT), PodParts.port("admin", ClusterNames.WORKER_ADMIN_PORT))
        .withReadinessProbe(PodParts.readiness(ClusterNames.WORKER_ADMIN_PORT))
        .withLivenessProbe(PodParts.liveness(ClusterNames.WORKER_ADMIN_PORT))
        .withResources(WorkerResources.of(plan.spec.workers))
        .withVolumeMounts(PodParts.mount("config", ClusterNames.CONFIG_DIR),
            PodParts.mount("internal-tls", ClusterNames.INTERNAL_TLS_DIR),
            new VolumeMountBuilder().withName(CAS_VOLUME).withMountPath(ClusterNames.WORKER_STORAGE_DIR).build())
        // The sandbox makes PID, mount and network namespaces and cgroups for each action, and
        // runs actions as an unprivileged user: that takes root with CAP_SYS_ADMIN in the pod.
        .withNewSecurityContext().withRunAsUser(0L).withNewCapabilities().withAdd("SYS_ADMIN").endCapabilities()
        .endSecurityContext()
        .endContainer()
        .withVolumes(PodParts.configMap("config", names.workerConfigMap()),
            PodParts.secret("internal-tls", names.internalTlsSecret()))
        .endSpec()
        .endTemplate()
        .endSpec().build();
  }

  private static PersistentVolumeClaim volumeClaim(ClusterPlan plan) {
    var storage = plan.spec.workers.storage;
    return new PersistentVolumeClaimBuilder()
        .withNewMetadata().withName(CAS_VOLUME).withLabels(Labels.of(plan.names, Labels.WORKER)).endMetadata()
        .withNewSpec()
        .withAccessModes(List.of("ReadWriteOnce"))
        .withStorageClassName(storage.storageClassName == null || storage.storageClassName.isEmpty()
            ? null : storage.storageClassName)
        .withNewResources().withRequests(Map.of("storage", new Quantity(storage.size))).endResources()
        .endSpec().build();
  }
}
