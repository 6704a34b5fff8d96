package build.rex.operator.tls;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.resources.ClusterPlan;
import build.rex.operator.resources.Labels;
import build.rex.operator.api.RemoteExecutionClusterSpec;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Secret;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import io.fabric8.kubernetes.api.model.Service;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.util.ArrayList;
import java.util.List;

/** The client port's certificate (mode Generated): the Service's DNS names and its load balancer's address. */
public final class ServerTlsSecret extends LeafCertificateSecret {
  public ServerTlsSecret() {
    super(Labels.SCHEDULER, build.rex.operator.resources.ClusterNames::serverTlsSecret);
  }

  /** Made only in mode Generated; in the other modes a Secret made earlier is deleted. */
  public static final class Generated implements Condition<Secret, RemoteExecutionCluster> {
    @Override
    public boolean isMet(DependentResource<Secret, RemoteExecutionCluster> dependent, RemoteExecutionCluster primary,
        Context<RemoteExecutionCluster> context) {
      return RemoteExecutionClusterSpec.TLS_GENERATED.equals(primary.getSpec().tls.mode);
    }
  }

  @Override
  protected String commonName(ClusterPlan plan) {
    return plan.names.clientService() + "." + plan.names.namespace() + ".svc";
  }

  @Override
  protected List<String> subjectAltNames(ClusterPlan plan, Context<RemoteExecutionCluster> context) {
    List<String> names = new ArrayList<>(plan.names.clientDnsNames());
    // From the informers' cache: the client Service is watched already, no call to the API server.
    Service service = context.getSecondaryResourcesAsStream(Service.class)
        .filter(candidate -> plan.names.clientService().equals(candidate.getMetadata().getName()))
        .findFirst().orElse(null);
    if (service != null && service.getStatus() != null && service.getStatus().getLoadBalancer() != null
        && service.getStatus().getLoadBalancer().getIngress() != null) {
      for (LoadBalancerIngress ingress : service.getStatus().getLoadBalancer().getIngress()) {
        if (ingress.getIp() != null) {
          names.add(ingress.getIp());
        }
        if (ingress.getHostname() != null) {
          names.add(ingress.getHostname());
        }
      }
    }
    return names;
  }

  @Override
  protected RotatingAuthority issuer(CertificateAuthorities authorities) {
    return authorities.publicCa();
  }
}
