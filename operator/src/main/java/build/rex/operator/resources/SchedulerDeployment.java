package build.rex.operator.resources;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.api.RemoteExecutionClusterSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The schedulers: stateless (the Action Cache lives on the workers), so a Deployment. */
public final class SchedulerDeployment extends ClusterDependent<Deployment> {
  public SchedulerDeployment() {
    super(Deployment.class, Labels.SCHEDULER, ClusterNames::schedulerDeployment);
  }

  /** Ready: as many schedulers ready as the spec asks for. */
  public static final class Ready implements Condition<Deployment, RemoteExecutionCluster> {
    @Override
    public boolean isMet(DependentResource<Deployment, RemoteExecutionCluster> dependent, RemoteExecutionCluster primary,
        Context<RemoteExecutionCluster> context) {
      return readyReplicas(dependent.getSecondaryResource(primary, context)) >= primary.getSpec().schedulers.replicas;
    }
  }

  public static int readyReplicas(java.util.Optional<Deployment> deployment) {
    return deployment.map(Deployment::getStatus).map(s -> s.getReadyReplicas() == null ? 0 : s.getReadyReplicas()).orElse(0);
  }

  @Override
  protected Deployment desired(ClusterPlan plan, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    ClusterNames names = plan.names;
    RemoteExecutionClusterSpec.Auth auth = plan.spec.auth;
    List<Volume> volumes = new ArrayList<>();
    List<VolumeMount> mounts = new ArrayList<>();
    add(volumes, mounts, PodParts.configMap("config", names.schedulerConfigMap()), ClusterNames.CONFIG_DIR);
    add(volumes, mounts, PodParts.secret("tls", plan.serverTlsSecret()), ClusterNames.SERVER_TLS_DIR);
    add(volumes, mounts, PodParts.secret("internal-tls", names.internalTlsSecret()), ClusterNames.INTERNAL_TLS_DIR);
    add(volumes, mounts, PodParts.secretKeys("client-ca",
        auth.clientCaSecretName != null ? auth.clientCaSecretName : names.clientTlsSecret(), List.of("ca.crt")),
        ClusterNames.CLIENT_CA_DIR);
    if (auth.tokensSecretName != null) {
      add(volumes, mounts, PodParts.secretKeys("tokens", auth.tokensSecretName, List.of("tokens.yaml")), ClusterNames.TOKENS_DIR);
    }
    if (auth.jwt != null) {
      add(volumes, mounts, PodParts.secretKeys("jwks", auth.jwt.jwksSecretName, List.of("jwks.json")), ClusterNames.JWKS_DIR);
    }
    if (plan.spec.backup.enabled && plan.spec.backup.credentialsSecretName != null) {
      add(volumes, mounts, PodParts.secretKeys("backup-credentials", plan.spec.backup.credentialsSecretName,
          List.of("access-key-id", "secret-access-key")), ClusterNames.BACKUP_CREDENTIALS_DIR);
    }
    // The root filesystem is read-only: the JVM's scratch files go to a small emptyDir.
    volumes.add(PodParts.scratch("tmp"));
    mounts.add(new io.fabric8.kubernetes.api.model.VolumeMountBuilder().withName("tmp").withMountPath("/tmp").build());
    Map<String, String> selector = Labels.selector(names, Labels.SCHEDULER);
    return new DeploymentBuilder().withMetadata(metadata(plan))
        .withNewSpec()
        .withReplicas(plan.spec.schedulers.replicas)
        .withNewSelector().withMatchLabels(selector).endSelector()
        // A new scheduler comes up before an old one goes: clients always have somewhere to go.
        .withNewStrategy().withType("RollingUpdate").withNewRollingUpdate()
        .withMaxUnavailable(new io.fabric8.kubernetes.api.model.IntOrString(0))
        .withMaxSurge(new io.fabric8.kubernetes.api.model.IntOrString(1)).endRollingUpdate().endStrategy()
        .withNewTemplate()
        .withNewMetadata().withLabels(Labels.of(names, Labels.SCHEDULER))
        .withAnnotations(Map.of(PodParts.CONFIG_HASH, plan.schedulerConfigHash)).endMetadata()
        .withNewSpec()
        .withSecurityContext(PodParts.restrictedPod())
        .withAffinity(PodParts.spreadOverNodes(selector))
        .withTerminationGracePeriodSeconds(60L)
        .addNewContainer()
        .withName("scheduler")
        .withImage(plan.schedulerImage())
        .withArgs("--config", ClusterNames.CONFIG_DIR + "/" + ConfigFiles.SCHEDULER_FILE)
        .withPorts(PodParts.port("grpcs", ClusterNames.CLIENT_PORT),
            PodParts.port("internal", ClusterNames.SCHEDULER_INTERNAL_PORT),
            PodParts.port("admin", ClusterNames.SCHEDULER_ADMIN_PORT))
        .withReadinessProbe(PodParts.readiness(ClusterNames.SCHEDULER_ADMIN_PORT))
        .withLivenessProbe(PodParts.liveness(ClusterNames.SCHEDULER_ADMIN_PORT))
        .withResources(WorkerResources.scheduler(plan.spec.schedulers))
        .withVolumeMounts(mounts)
        .withSecurityContext(PodParts.restrictedContainer())
        .endContainer()
        .withVolumes(volumes)
        .endSpec()
        .endTemplate()
        .endSpec().build();
  }

  private static void add(List<Volume> volumes, List<VolumeMount> mounts, Volume volume, String path) {
    volumes.add(volume);
    mounts.add(PodParts.mount(volume.getName(), path));
  }
}
