package build.rex.server.security;

import java.util.Optional;

/** One way of proving who a caller is. */
public interface Authenticator {
  /**
   * The identity the credentials prove; empty when they hold nothing this authenticator reads
   * (another one may); throws when they hold something it reads but that proves nothing.
   */
  Optional<Identity> authenticate(Credentials credentials) throws AuthenticationException;
}
