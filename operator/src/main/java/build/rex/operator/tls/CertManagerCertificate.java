package build.rex.operator.tls;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.api.RemoteExecutionClusterSpec;
import build.rex.operator.resources.ClusterPlan;
import build.rex.operator.resources.Labels;
import build.rex.operator.resources.UnwatchedDependent;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.api.reconciler.dependent.ReconcileResult;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Mode CertManager: a cert-manager Certificate whose Secret the schedulers mount. Applied with
 * the plain client and not watched (a watch needs the API to exist: the operator must run where
 * cert-manager is not installed); the workflow reconciles it only while the spec asks for it.
 */
public final class CertManagerCertificate extends UnwatchedDependent<GenericKubernetesResource> {
  public static final ResourceDefinitionContext CERTIFICATES = new ResourceDefinitionContext.Builder()
      .withGroup("cert-manager.io").withVersion("v1").withKind("Certificate").withPlural("certificates")
      .withNamespaced(true).build();

  public CertManagerCertificate() {
    super(GenericKubernetesResource.class);
  }

  @Override
  public ReconcileResult<GenericKubernetesResource> reconcile(RemoteExecutionCluster primary,
      Context<RemoteExecutionCluster> context) {
    GenericKubernetesResource desired = desired(primary, context);
    var certificates = context.getClient().genericKubernetesResources(CERTIFICATES).inNamespace(primary.getMetadata().getNamespace());
    GenericKubernetesResource existing = certificates.withName(desired.getMetadata().getName()).get();
    if (existing == null) {
      return ReconcileResult.resourceCreated(certificates.resource(desired).create());
    }
    if (existing.getAdditionalProperties().get("spec").equals(desired.getAdditionalProperties().get("spec"))) {
      return ReconcileResult.noOperation(existing);
    }
    existing.setAdditionalProperty("spec", desired.getAdditionalProperties().get("spec"));
    return ReconcileResult.resourceUpdated(certificates.resource(existing).update());
  }

  /** Active while the spec asks cert-manager for the client port's certificate. */
  public static final class Requested implements Condition<GenericKubernetesResource, RemoteExecutionCluster> {
    @Override
    public boolean isMet(DependentResource<GenericKubernetesResource, RemoteExecutionCluster> dependent,
        RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
      return RemoteExecutionClusterSpec.TLS_CERT_MANAGER.equals(primary.getSpec().tls.mode);
    }
  }

  private static GenericKubernetesResource desired(RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    ClusterPlan plan = ClusterPlan.of(context);
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
        .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(primary.getApiVersion()).withKind(primary.getKind())
            .withName(primary.getMetadata().getName()).withUid(primary.getMetadata().getUid())
            .withController(true).withBlockOwnerDeletion(true).build())
        .endMetadata()
        .withAdditionalProperties(Map.of("spec", spec))
        .build();
  }
}
