package build.rex.operator.tls;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.resources.ClusterDependent;
import build.rex.operator.resources.ClusterPlan;
import build.rex.server.security.CertificateAuthority;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) with a certificate from one of the
 * cluster's CAs. It is kept while it is signed by that CA, names the same hosts and has more
 * than a third of its life left; otherwise a new one is issued. Servers re-read the files within
 * seconds, so a renewal needs no restart.
 */
public abstract class LeafCertificateSecret extends ClusterDependent<Secret> {
  public static final Duration VALIDITY = Duration.ofDays(90);
  public static final Duration RENEW_BEFORE = Duration.ofDays(30);
  private static Clock clock = Clock.systemUTC();

  protected LeafCertificateSecret(String component, java.util.function.Function<build.rex.operator.resources.ClusterNames, String> naming) {
    super(Secret.class, component, naming);
  }

  /** For tests of renewal: the time the operator believes it is. */
  public static void useClock(Clock testClock) {
    clock = testClock;
  }

  protected abstract String commonName(ClusterPlan plan);

  protected abstract List<String> subjectAltNames(ClusterPlan plan, Context<RemoteExecutionCluster> context);

  protected abstract CertificateAuthority issuer(CertificateAuthorities authorities);

  @Override
  protected Secret desired(ClusterPlan plan, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    CertificateAuthority ca = issuer(CertificateAuthorities.of(context));
    List<String> names = subjectAltNames(plan, context);
    Map<String, String> data = getSecondaryResource(primary, context).map(Secret::getData)
        .filter(existing -> stillGood(existing, ca, names))
        .orElseGet(() -> issue(ca, commonName(plan), names));
    return new SecretBuilder().withMetadata(metadata(plan)).withType("kubernetes.io/tls")
        .withData(data).build();
  }

  /** When the certificate in a Secret of this kind must be renewed. */
  public static Instant renewalTime(Secret secret) {
    try {
      X509Certificate certificate = CertificateAuthority.parseCertificate(
          CaSecret.decode(secret.getData().get("tls.crt")), secret.getMetadata().getName());
      return certificate.getNotAfter().toInstant().minus(RENEW_BEFORE);
    } catch (Exception e) {
      return Instant.EPOCH;
    }
  }

  private static boolean stillGood(Map<String, String> data, CertificateAuthority ca, List<String> names) {
    try {
      X509Certificate certificate = CertificateAuthority.parseCertificate(CaSecret.decode(data.get("tls.crt")), "tls.crt");
      certificate.verify(ca.certificate().getPublicKey());
      boolean fresh = clock.instant().isBefore(certificate.getNotAfter().toInstant().minus(RENEW_BEFORE));
      return fresh && Objects.equals(new TreeSet<>(names), altNames(certificate))
          && CaSecret.decode(data.get("ca.crt")).equals(ca.certificatePem());
    } catch (Exception e) {
      return false;
    }
  }

  private static Set<String> altNames(X509Certificate certificate) throws java.security.cert.CertificateParsingException {
    Set<String> names = new TreeSet<>();
    Collection<List<?>> entries = certificate.getSubjectAlternativeNames();
    if (entries != null) {
      for (List<?> entry : entries) {
        names.add(String.valueOf(entry.get(1)));
      }
    }
    return names;
  }

  private static Map<String, String> issue(CertificateAuthority ca, String commonName, List<String> names) {
    CertificateAuthority.Issued issued = ca.issue(commonName, new ArrayList<>(names), VALIDITY);
    Map<String, String> data = new LinkedHashMap<>();
    data.put("tls.crt", CaSecret.encode(issued.certificatePem()));
    data.put("tls.key", CaSecret.encode(issued.privateKeyPem()));
    data.put("ca.crt", CaSecret.encode(ca.certificatePem()));
    return data;
  }
}
