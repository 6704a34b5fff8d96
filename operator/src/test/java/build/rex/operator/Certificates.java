package build.rex.operator;

import build.rex.pki.CertificateAuthority;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Reads the certificate in a kubernetes.io/tls Secret. */
final class Certificates {
  private Certificates() {}

  static X509Certificate of(Secret secret) {
    try {
      return CertificateAuthority.parseCertificate(new String(Base64.getDecoder().decode(secret.getData().get("tls.crt")),
          StandardCharsets.UTF_8), secret.getMetadata().getName());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static Set<String> altNames(Secret secret) {
    try {
      Set<String> names = new TreeSet<>();
      var entries = of(secret).getSubjectAlternativeNames();
      if (entries != null) {
        for (List<?> entry : entries) {
          names.add(String.valueOf(entry.get(1)));
        }
      }
      return names;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static Instant notAfter(Secret secret) {
    return of(secret).getNotAfter().toInstant();
  }

  /** The CAs a Secret's ca.crt bundle holds. */
  static List<X509Certificate> trusted(Secret secret) {
    try {
      var factory = java.security.cert.CertificateFactory.getInstance("X.509");
      return factory.generateCertificates(new java.io.ByteArrayInputStream(Base64.getDecoder()
          .decode(secret.getData().get("ca.crt")))).stream().map(X509Certificate.class::cast).toList();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Whether a peer trusting {@code trust}'s ca.crt accepts the certificate in {@code shown} at
   * {@code at}: one of those CAs signed it, and both are valid then.
   */
  static boolean accepts(Secret trust, Secret shown, Instant at) {
    X509Certificate certificate = of(shown);
    if (!valid(certificate, at)) {
      return false;
    }
    for (X509Certificate ca : trusted(trust)) {
      try {
        certificate.verify(ca.getPublicKey());
        if (valid(ca, at)) {
          return true;
        }
      } catch (Exception notThisOne) {
        // signed by another of the bundle's CAs, or by none
      }
    }
    return false;
  }

  private static boolean valid(X509Certificate certificate, Instant at) {
    return !at.isBefore(certificate.getNotBefore().toInstant()) && !at.isAfter(certificate.getNotAfter().toInstant());
  }
}
