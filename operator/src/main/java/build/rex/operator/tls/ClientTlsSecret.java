package build.rex.operator.tls;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.resources.ClusterPlan;
import build.rex.operator.resources.Labels;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.util.List;

/**
 * A client certificate (identity "admin") from the operator's CA, so a new cluster has a user:
 * {@code kubectl get secret NAME-client-tls} gives what Bazel's --tls_client_certificate,
 * --tls_client_key and --tls_certificate need. Its ca.crt is also what the schedulers trust for
 * client certificates unless the spec names another CA.
 */
public final class ClientTlsSecret extends LeafCertificateSecret {
  public static final String IDENTITY = "admin";

  public ClientTlsSecret() {
    super(Labels.SCHEDULER, build.rex.operator.resources.ClusterNames::clientTlsSecret);
  }

  @Override
  protected String commonName(ClusterPlan plan) {
    return IDENTITY;
  }

  @Override
  protected List<String> subjectAltNames(ClusterPlan plan, Context<RemoteExecutionCluster> context) {
    return List.of();
  }

  @Override
  protected RotatingAuthority issuer(CertificateAuthorities authorities) {
    return authorities.publicCa();
  }
}
