package build.rex.server.security;

import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Mutual TLS: the handshake has already checked the chain against the client CA, so a
 * certificate here is proof; the identity is its subject's common name.
 */
public final class ClientCertificateAuthenticator implements Authenticator {
  @Override
  public Optional<Identity> authenticate(Credentials credentials) throws AuthenticationException {
    if (!credentials.hasCertificate()) {
      return Optional.empty();
    }
    return Optional.of(new Identity(commonName(credentials.certificates().get(0)), "mtls"));
  }

  static String commonName(X509Certificate certificate) throws AuthenticationException {
    try {
      for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return rdn.getValue().toString();
        }
      }
    } catch (InvalidNameException e) {
      // reported below
    }
    throw new AuthenticationException("the client certificate has no subject common name to identify it by");
  }
}
