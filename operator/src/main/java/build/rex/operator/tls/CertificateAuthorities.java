package build.rex.operator.tls;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.server.security.CertificateAuthority;
import io.javaoperatorsdk.operator.api.reconciler.Context;

/**
 * A cluster's two CAs: the public one signs the client port's certificate and client
 * certificates; the internal one signs the certificate schedulers and workers show each other.
 */
public record CertificateAuthorities(CertificateAuthority publicCa, CertificateAuthority internalCa) {
  private static final String KEY = CertificateAuthorities.class.getName();

  public void attachTo(Context<RemoteExecutionCluster> context) {
    context.managedWorkflowAndDependentResourceContext().put(KEY, this);
  }

  public static CertificateAuthorities of(Context<RemoteExecutionCluster> context) {
    return context.managedWorkflowAndDependentResourceContext().getMandatory(KEY, CertificateAuthorities.class);
  }
}
