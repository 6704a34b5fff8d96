package build.rex.server.security;

/** Credentials were presented but do not prove an identity; the message says why, without secrets. */
public final class AuthenticationException extends Exception {
  public AuthenticationException(String message) {
    super(message);
  }
}
