package build.rex.operator;

import build.rex.server.security.CertificateAuthority;
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
}
