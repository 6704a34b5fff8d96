package build.rex.server.security;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * What a caller presented: a bearer token from the {@code authorization} header, and the
 * certificate chain it showed in the TLS handshake (already verified against the client CA).
 */
public record Credentials(String bearerToken, List<X509Certificate> certificates) {
  public boolean hasToken() {
    return bearerToken != null;
  }

  public boolean hasCertificate() {
    return !certificates.isEmpty();
  }
}
