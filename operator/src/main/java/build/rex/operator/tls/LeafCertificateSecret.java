package build.rex.operator.tls;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.resources.ClusterDependent;
import build.rex.operator.resources.ClusterNames;
import build.rex.operator.resources.ClusterPlan;
import build.rex.pki.CertificateAuthority;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.security.cert.X509Certificate;
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
import java.util.function.Function;

/**
 * A kubernetes.io/tls Secret: tls.crt and tls.key from one of the cluster's CAs, and ca.crt with
 * every CA to trust now (two while that CA rotates). The certificate is kept while the CA that
 * signs now signed it, it names the same hosts and has more than {@link #RENEW_BEFORE} left (or
 * ends with its CA, whose rotation replaces it); otherwise a new one is issued. Servers re-read
 * the files within seconds, so neither a renewal nor a rotation needs a restart.
 */
public abstract class LeafCertificateSecret extends ClusterDependent<Secret> {
  public static final Duration VALIDITY = Duration.ofDays(90);
  public static final Duration RENEW_BEFORE = Duration.ofDays(30);

  protected LeafCertificateSecret(String component, Function<ClusterNames, String> naming) {
    super(Secret.class, component, naming);
  }

  protected abstract String commonName(ClusterPlan plan);

  protected abstract List<String> subjectAltNames(ClusterPlan plan, Context<RemoteExecutionCluster> context);

  protected abstract RotatingAuthority issuer(CertificateAuthorities authorities);

  @Override
  protected Secret desired(ClusterPlan plan, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    RotatingAuthority ca = issuer(plan.authorities);
    List<String> names = subjectAltNames(plan, context);
    Map<String, String> data = getSecondaryResource(primary, context).map(Secret::getData)
        .filter(existing -> stillGood(existing, ca.signer(), names, plan.now))
        .<Map<String, String>>map(LinkedHashMap::new)
        .orElseGet(() -> issue(ca.signer(), commonName(plan), names, plan.now));
    data.put("ca.crt", RotatingAuthority.encode(ca.trustPem()));
    return new SecretBuilder().withMetadata(metadata(plan)).withType("kubernetes.io/tls")
        .withData(data).build();
  }

  private static boolean stillGood(Map<String, String> data, CertificateAuthority signer, List<String> names,
      Instant now) {
    try {
      X509Certificate certificate = CertificateAuthority.parseCertificate(
          RotatingAuthority.decode(data.get("tls.crt")), "tls.crt");
      certificate.verify(signer.certificate().getPublicKey());
      Instant notAfter = certificate.getNotAfter().toInstant();
      boolean endsWithItsCa = !notAfter.isBefore(signer.certificate().getNotAfter().toInstant());
      boolean fresh = now.isBefore(notAfter.minus(RENEW_BEFORE)) || endsWithItsCa && now.isBefore(notAfter);
      return fresh && Objects.equals(new TreeSet<>(names), altNames(certificate)) && data.get("tls.key") != null;
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

  /** A certificate for {@link #VALIDITY}, but never beyond its CA's own end. */
  private static Map<String, String> issue(CertificateAuthority ca, String commonName, List<String> names, Instant now) {
    Instant caEnd = ca.certificate().getNotAfter().toInstant();
    Instant notAfter = now.plus(VALIDITY).isBefore(caEnd) ? now.plus(VALIDITY) : caEnd;
    CertificateAuthority.Issued issued = ca.issue(commonName, new ArrayList<>(names), now, notAfter);
    Map<String, String> data = new LinkedHashMap<>();
    data.put("tls.crt", RotatingAuthority.encode(issued.certificatePem()));
    data.put("tls.key", RotatingAuthority.encode(issued.privateKeyPem()));
    return data;
  }
}
