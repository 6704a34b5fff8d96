package build.rex.operator.tls;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.resources.ClusterPlan;
import build.rex.operator.resources.Labels;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Mode CertManager: a cert-manager Certificate whose Secret the schedulers mount. Applied with
 * the plain client rather than as a watched dependent, so the operator runs where cert-manager is
 * not installed (a watch on its missing API would stop the operator from starting).
 */
public final class CertManagerCertificate {
  public static final ResourceDefinitionContext CERTIFICATES = new ResourceDefinitionContext.Builder()
      .withGroup("cert-manager.io").withVersion("v1").withKind("Certificate").withPlural("certificates")
      .withNamespaced(true).build();

  private CertManagerCertificate() {}

  public static GenericKubernetesResource desired(ClusterPlan plan, RemoteExecutionCluster owner) {
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("secretName", plan.names.certManagerCertificate());
    spec.put("commonName", plan.names.clientService() + "." + plan.names.namespace() + ".svc");
    spec.put("dnsNames", plan.names.clientDnsNames());
    spec.put("issuerRef", Map.of("name", plan.spec.tls.issuerRef.name, "kind", plan.spec.tls.issuerRef.kind,
        "group", "cert-manager.io"));
    spec.put("privateKey", Map.of("algorithm", "ECDSA", "size", 256, "rotationPolicy", "Always"));
    return new GenericKubernetesResourceBuilder()
        .withApiVersion("cert-manager.io/v1").withKind("Certificate")
        .withNewMetadata().withName(plan.names.certManagerCertificate()).withNamespace(plan.names.namespace())
        .withLabels(Labels.of(plan.names, Labels.SCHEDULER))
        .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(owner.getApiVersion()).withKind(owner.getKind())
            .withName(owner.getMetadata().getName()).withUid(owner.getMetadata().getUid())
            .withController(true).withBlockOwnerDeletion(true).build())
        .endMetadata()
        .withAdditionalProperties(Map.of("spec", spec))
        .build();
  }

  public static void apply(KubernetesClient client, ClusterPlan plan, RemoteExecutionCluster owner) {
    client.genericKubernetesResources(CERTIFICATES).inNamespace(plan.names.namespace())
        .resource(desired(plan, owner)).createOr(existing -> existing.update());
  }
}
