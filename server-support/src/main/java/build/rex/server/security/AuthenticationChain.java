package build.rex.server.security;

import java.util.List;
import java.util.Optional;

/**
 * The configured authenticators together. A bearer token decides on its own (a bad token is an
 * error even if a certificate was also shown, so a client never runs as someone it did not mean
 * to be); otherwise the certificate; with neither, the caller is anonymous.
 */
public final class AuthenticationChain {
  private final List<Authenticator> authenticators;

  public AuthenticationChain(List<Authenticator> authenticators) {
    this.authenticators = List.copyOf(authenticators);
  }

  public Identity authenticate(Credentials credentials) throws AuthenticationException {
    if (credentials.hasToken()) {
      return first(new Credentials(credentials.bearerToken(), List.of()))
          .orElseThrow(() -> new AuthenticationException("the bearer token is not valid"));
    }
    if (credentials.hasCertificate()) {
      return first(credentials)
          .orElseThrow(() -> new AuthenticationException("client certificates are not accepted on this port"));
    }
    return Identity.ANONYMOUS;
  }

  private Optional<Identity> first(Credentials credentials) throws AuthenticationException {
    for (Authenticator authenticator : authenticators) {
      Optional<Identity> identity = authenticator.authenticate(credentials);
      if (identity.isPresent()) {
        return identity;
      }
    }
    return Optional.empty();
  }
}
