package build.rex.operator.resources;

import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.List;
import java.util.Map;

/** Pieces both components' pods are built from. */
final class PodParts {
  /** The annotation whose change rolls a component's pods. */
  static final String CONFIG_HASH = "rex.build/config-hash";
  /** The images' unprivileged user (distroless "nonroot"). */
  static final long UNPRIVILEGED = 65532L;

  private PodParts() {}

  static ContainerPort port(String name, int port) {
    return new ContainerPortBuilder().withName(name).withContainerPort(port).withProtocol("TCP").build();
  }

  /** Ready: the server can do its job (a scheduler has a worker; a worker is registered). */
  static Probe readiness(int adminPort) {
    return new ProbeBuilder().withNewHttpGet().withPath("/readyz").withPort(new IntOrString(adminPort)).endHttpGet()
        .withPeriodSeconds(5).withFailureThreshold(3).build();
  }

  /** Live: the process answers; generous, so a busy JVM is not killed for a slow answer. */
  static Probe liveness(int adminPort) {
    return new ProbeBuilder().withNewHttpGet().withPath("/healthz").withPort(new IntOrString(adminPort)).endHttpGet()
        .withInitialDelaySeconds(20).withPeriodSeconds(10).withTimeoutSeconds(5).withFailureThreshold(6).build();
  }

  /** Spread a component's pods over nodes where the scheduler can. */
  static Affinity spreadOverNodes(Map<String, String> selector) {
    return new AffinityBuilder().withNewPodAntiAffinity()
        .addNewPreferredDuringSchedulingIgnoredDuringExecution().withWeight(100)
        .withNewPodAffinityTerm().withTopologyKey("kubernetes.io/hostname")
        .withNewLabelSelector().withMatchLabels(selector).endLabelSelector()
        .endPodAffinityTerm().endPreferredDuringSchedulingIgnoredDuringExecution()
        .endPodAntiAffinity().build();
  }

  static Volume configMap(String volume, String configMap) {
    return new VolumeBuilder().withName(volume).withNewConfigMap().withName(configMap).endConfigMap().build();
  }

  static Volume secret(String volume, String secret) {
    return new VolumeBuilder().withName(volume).withNewSecret().withSecretName(secret).withDefaultMode(0400)
        .endSecret().build();
  }

  /** Only the named keys of a Secret, e.g. a CA certificate without the key beside it. */
  static Volume secretKeys(String volume, String secret, List<String> keys) {
    return new VolumeBuilder().withName(volume).withNewSecret().withSecretName(secret).withDefaultMode(0400)
        .withItems(keys.stream().map(key -> new KeyToPath(key, null, key)).toList())
        .endSecret().build();
  }

  /** Pod Security "restricted": a fixed unprivileged user, the runtime's default seccomp profile. */
  static PodSecurityContext restrictedPod() {
    return new PodSecurityContextBuilder().withRunAsNonRoot(true).withRunAsUser(UNPRIVILEGED).withRunAsGroup(UNPRIVILEGED)
        .withFsGroup(UNPRIVILEGED).withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile().build();
  }

  /** Pod Security "restricted" for a container: no escalation, no capabilities, nothing written outside its volumes. */
  static SecurityContext restrictedContainer() {
    return new SecurityContextBuilder().withRunAsNonRoot(true).withAllowPrivilegeEscalation(false)
        .withReadOnlyRootFilesystem(true).withNewCapabilities().withDrop("ALL").endCapabilities()
        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile().build();
  }

  static Volume scratch(String volume) {
    return new VolumeBuilder().withName(volume).withNewEmptyDir().withSizeLimit(new Quantity("256Mi")).endEmptyDir().build();
  }

  static VolumeMount mount(String volume, String path) {
    return new VolumeMountBuilder().withName(volume).withMountPath(path).withReadOnly(true).build();
  }
}
