package build.rex.operator.resources;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.api.RemoteExecutionClusterSpec;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
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

  /** Ready: as many workers ready as the plan runs now. */
  public static final class Ready implements Condition<StatefulSet, RemoteExecutionCluster> {
    @Override
    public boolean isMet(DependentResource<StatefulSet, RemoteExecutionCluster> dependent, RemoteExecutionCluster primary,
        Context<RemoteExecutionCluster> context) {
      return readyReplicas(dependent.getSecondaryResource(primary, context)) >= ClusterPlan.of(context).workerReplicas();
    }
  }

  public static int readyReplicas(java.util.Optional<StatefulSet> set) {
    return set.map(StatefulSet::getStatus).map(s -> s.getReadyReplicas() == null ? 0 : s.getReadyReplicas()).orElse(0);
  }

  @Override
  protected StatefulSet desired(ClusterPlan plan, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    ClusterNames names = plan.names;
    Map<String, String> selector = Labels.selector(names, Labels.WORKER);
    int graceSeconds = 60 + 30; // the worker's own drain limit (cluster.shutdownGraceSeconds) and time to stop
    return new StatefulSetBuilder().withMetadata(metadata(plan))
        .withNewSpec()
        .withReplicas(plan.workerReplicas())
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
        // Baseline: the runtime's default seccomp profile (Full leaves it to the node: unshare must pass).
        .withSecurityContext(RemoteExecutionClusterSpec.SANDBOX_FULL.equals(plan.spec.workers.sandbox) ? null
            : new io.fabric8.kubernetes.api.model.PodSecurityContextBuilder().withNewSeccompProfile()
                .withType("RuntimeDefault").endSeccompProfile().build())
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
        .withSecurityContext(sandbox(plan.spec.workers.sandbox))
        .endContainer()
        .withVolumes(PodParts.configMap("config", names.workerConfigMap()),
            PodParts.secret("internal-tls", names.internalTlsSecret()))
        .endSpec()
        .endTemplate()
        .endSpec().build();
  }

  /**
   * Kubernetes refuses any change to a StatefulSet's volume templates. When spec.workers.storage
   * changes, the volumes of the running workers are grown in place where the size went up (the
   * StorageClass must allow expansion; an Event says when it does not; a smaller size or another
   * class applies to new volumes only), and the StatefulSet is replaced: deleted with its pods
   * left running, then made again by the next reconciliation, which adopts them. Not while its
   * replica count changes: that goes first, with the volume templates it has.
   */
  @Override
  public StatefulSet update(StatefulSet actual, StatefulSet desired, RemoteExecutionCluster primary,
      Context<RemoteExecutionCluster> context) {
    PersistentVolumeClaim wanted = desired.getSpec().getVolumeClaimTemplates().get(0);
    if (sameVolumes(actual.getSpec().getVolumeClaimTemplates(), wanted)) {
      return super.update(actual, desired, primary, context);
    }
    if (!actual.getSpec().getReplicas().equals(desired.getSpec().getReplicas())) {
      desired.getSpec().setVolumeClaimTemplates(actual.getSpec().getVolumeClaimTemplates());
      return super.update(actual, desired, primary, context);
    }
    growVolumes(actual, wanted, context);
    record(context, "replaced (volume template changed; pods kept)", actual);
    context.getClient().resource(actual).withPropagationPolicy(DeletionPropagation.ORPHAN).delete();
    return actual;
  }

  private static boolean sameVolumes(List<PersistentVolumeClaim> actual, PersistentVolumeClaim wanted) {
    if (actual == null || actual.size() != 1) {
      return false;
    }
    var spec = actual.get(0).getSpec();
    String wantedClass = wanted.getSpec().getStorageClassName();
    return requested(actual.get(0)).compareTo(requested(wanted)) == 0
        && (wantedClass == null || wantedClass.equals(spec.getStorageClassName()));
  }

  private static java.math.BigDecimal requested(PersistentVolumeClaim claim) {
    return Quantity.getAmountInBytes(claim.getSpec().getResources().getRequests().get("storage"));
  }

  /** Asks for the larger size on each running worker's volume. */
  private static void growVolumes(StatefulSet actual, PersistentVolumeClaim wanted, Context<RemoteExecutionCluster> context) {
    ClusterPlan plan = ClusterPlan.of(context);
    Quantity size = wanted.getSpec().getResources().getRequests().get("storage");
    for (int ordinal = 0; ordinal < actual.getSpec().getReplicas(); ordinal++) {
      String name = CAS_VOLUME + "-" + plan.names.workerPod(ordinal);
      var claim = context.getClient().persistentVolumeClaims().inNamespace(plan.names.namespace()).withName(name);
      PersistentVolumeClaim current = claim.get();
      if (current == null || requested(current).compareTo(requested(wanted)) >= 0) {
        continue;
      }
      try {
        claim.edit(c -> {
          c.getSpec().getResources().getRequests().put("storage", size);
          return c;
        });
        record(context, "grew to " + size, current);
      } catch (KubernetesClientException e) {
        ClusterWarnings.of(context).add("VolumeNotGrown", "PersistentVolumeClaim " + name + " stays at its size: " + e.getMessage()
            + " (its StorageClass must allow volume expansion); new workers get " + size);
      }
    }
  }

  /**
   * Full: the sandbox makes PID, mount and network namespaces and a cgroup for each action and
   * runs it as an unprivileged user, which takes root with CAP_SYS_ADMIN in the pod. Baseline: root for switching to that user (CAP_SETUID and
   * CAP_SETGID, in every runtime's default set), nothing added, no escalation; the sandbox finds
   * the namespace and cgroup layers unavailable and runs without them.
   */
  private static io.fabric8.kubernetes.api.model.SecurityContext sandbox(String mode) {
    var context = new io.fabric8.kubernetes.api.model.SecurityContextBuilder().withRunAsUser(0L);
    if (RemoteExecutionClusterSpec.SANDBOX_FULL.equals(mode)) {
      return context.withNewCapabilities().withAdd("SYS_ADMIN").endCapabilities().build();
    }
    return context.withAllowPrivilegeEscalation(false).build();
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
