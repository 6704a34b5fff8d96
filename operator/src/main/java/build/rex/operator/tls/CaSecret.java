package build.rex.operator.tls;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.resources.ClusterDependent;
import build.rex.operator.resources.ClusterNames;
import build.rex.operator.resources.ClusterPlan;
import build.rex.operator.resources.Labels;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.Matcher;

/**
 * The cluster's CAs with their keys and where their rotation stands; no pod mounts this Secret.
 * The plan decides its content ({@link CertificateAuthorities#advance}): a CA is made anew only
 * when the Secret is gone or unreadable, and then every certificate it signed is too.
 */
public final class CaSecret extends ClusterDependent<Secret> {
  public CaSecret() {
    super(Secret.class, Labels.SCHEDULER, ClusterNames::caSecret);
  }

  /** Exactly the desired entries: a rotation's end removes keys, which a match on the desired ones alone would miss. */
  @Override
  public Matcher.Result<Secret> match(Secret actual, Secret desired, RemoteExecutionCluster primary,
      Context<RemoteExecutionCluster> context) {
    return Matcher.Result.computed(java.util.Objects.equals(actual.getData(), desired.getData())
        && java.util.Objects.equals(actual.getMetadata().getLabels(), desired.getMetadata().getLabels()), desired);
  }

  @Override
  protected Secret desired(ClusterPlan plan, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    return new SecretBuilder().withMetadata(metadata(plan)).withType("Opaque")
        .withData(plan.authorities.secretData()).build();
  }
}
