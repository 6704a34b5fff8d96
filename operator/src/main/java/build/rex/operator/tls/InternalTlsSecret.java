package build.rex.operator.tls;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.resources.ClusterPlan;
import build.rex.operator.resources.Labels;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.util.List;

/**
 * The certificate every scheduler and worker shows the others. Internal connections check that
 * it comes from the internal CA (not host names, since peers are dialled by pod address), so
 * one certificate serves all pods.
 */
public final class InternalTlsSecret extends LeafCertificateSecret {
  public InternalTlsSecret() {
    super(Labels.WORKER, build.rex.operator.resources.ClusterNames::internalTlsSecret);
  }

  @Override
  protected String commonName(ClusterPlan plan) {
    return "rex-internal";
  }

  @Override
  protected List<String> subjectAltNames(ClusterPlan plan, Context<RemoteExecutionCluster> context) {
    String namespace = plan.names.namespace();
    return List.of(plan.names.schedulerPeersService() + "." + namespace + ".svc",
        "*." + plan.names.workerPeersService() + "." + namespace + ".svc");
  }

  @Override
  protected RotatingAuthority issuer(CertificateAuthorities authorities) {
    return authorities.internalCa();
  }
}
