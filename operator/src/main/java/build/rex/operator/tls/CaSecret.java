package build.rex.operator.tls;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.resources.ClusterDependent;
import build.rex.operator.resources.ClusterNames;
import build.rex.operator.resources.ClusterPlan;
import build.rex.operator.resources.Labels;
import build.rex.server.security.CertificateAuthority;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.io.IOException;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The cluster's CAs with their keys, made once and kept; no pod mounts this Secret. A CA is made
 * anew only when the Secret is gone or unreadable, and then every certificate it signed is too.
 */
public final class CaSecret extends ClusterDependent<Secret> {
  static final Duration CA_VALIDITY = Duration.ofDays(3650);

  public CaSecret() {
    super(Secret.class, Labels.SCHEDULER, ClusterNames::caSecret);
  }

  @Override
  protected Secret desired(ClusterPlan plan, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    Map<String, String> data = getSecondaryResource(primary, context).map(Secret::getData)
        .filter(existing -> read(existing).isPresent())
        .orElseGet(() -> fresh(plan.names.cluster()));
    return new SecretBuilder().withMetadata(metadata(plan)).withType("Opaque")
        .withData(data).build();
  }

  /** The CAs held by a Secret this dependent made; empty when it is not readable. */
  public static Optional<CertificateAuthorities> read(Map<String, String> data) {
    if (data == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(new CertificateAuthorities(
          CertificateAuthority.fromPem(decode(data.get("ca.crt")), decode(data.get("ca.key"))),
          CertificateAuthority.fromPem(decode(data.get("internal-ca.crt")), decode(data.get("internal-ca.key")))));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static Map<String, String> fresh(String cluster) {
    CertificateAuthority publicCa = CertificateAuthority.create("rex " + cluster + " CA", CA_VALIDITY);
    CertificateAuthority internalCa = CertificateAuthority.create("rex " + cluster + " internal CA", CA_VALIDITY);
    Map<String, String> data = new LinkedHashMap<>();
    data.put("ca.crt", encode(publicCa.certificatePem()));
    data.put("ca.key", encode(publicCa.privateKeyPem()));
    data.put("internal-ca.crt", encode(internalCa.certificatePem()));
    data.put("internal-ca.key", encode(internalCa.privateKeyPem()));
    return data;
  }

  static String encode(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), java.nio.charset.StandardCharsets.UTF_8);
  }
}
