package build.rex.server.security;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Who may use an admin port beyond /metrics, /healthz and /readyz (its API, the web UI and every
 * change they make). With a tokens file (the format of {@link BearerTokenAuthenticator}), a call
 * needs one of its tokens, as {@code Authorization: Bearer <token>} or, for a browser, in the
 * {@value #COOKIE} cookie that the UI's login sets. Without one the port is open to whoever can
 * reach it (bind it to a private address). Either way a change (any method but GET and HEAD) that
 * a browser sends from another site's page is refused, so a page elsewhere cannot drain a worker
 * with the cookie of someone logged in.
 */
public final class AdminAccess {
  public static final String COOKIE = "rex_admin";
  private final Authenticator tokens;

  private AdminAccess(Authenticator tokens) {
    this.tokens = tokens;
  }

  /** No token needed. */
  public static AdminAccess open() {
    return new AdminAccess(null);
  }

  /** A token of the file needed (read now, reloaded when it changes). */
  public static AdminAccess tokens(Path file) throws IOException {
    return new AdminAccess(new BearerTokenAuthenticator(file));
  }

  public boolean needsToken() {
    return tokens != null;
  }

  /** Why the call is refused, as an HTTP status and message; empty when it may go on. */
  public Optional<Refusal> check(HttpExchange exchange) {
    String method = exchange.getRequestMethod();
    if (!method.equals("GET") && !method.equals("HEAD") && fromAnotherSite(exchange)) {
      return Optional.of(new Refusal(403, "a change sent from another site's page is refused"));
    }
    if (tokens == null || isValid(token(exchange))) {
      return Optional.empty();
    }
    exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"rex admin\"");
    return Optional.of(new Refusal(401, "this needs an admin token (Authorization: Bearer <token>, or log in at /ui/)"));
  }

  /** Whether {@code token} is one of the file's; always true without a file. */
  public boolean isValid(String token) {
    if (tokens == null) {
      return true;
    }
    try {
      return token != null && !token.isEmpty() && tokens.authenticate(new Credentials(token, List.of())).isPresent();
    } catch (AuthenticationException e) {
      return false;
    }
  }

  /** An HTTP answer that ends the call. */
  public record Refusal(int status, String message) {}

  private static String token(HttpExchange exchange) {
    String authorization = exchange.getRequestHeaders().getFirst("Authorization");
    if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return authorization.substring(7).trim();
    }
    for (String header : exchange.getRequestHeaders().getOrDefault("Cookie", List.of())) {
      for (String cookie : header.split(";")) {
        String[] pair = cookie.trim().split("=", 2);
        if (pair.length == 2 && pair[0].equals(COOKIE)) {
          return pair[1];
        }
      }
    }
    return null;
  }

  /** A browser names the page a request comes from in Origin; other clients send none. */
  private static boolean fromAnotherSite(HttpExchange exchange) {
    String origin = exchange.getRequestHeaders().getFirst("Origin");
    if (origin == null) {
      return false;
    }
    String host = exchange.getRequestHeaders().getFirst("Host");
    try {
      URI from = URI.create(origin);
      String fromHost = from.getPort() < 0 ? from.getHost() : from.getHost() + ":" + from.getPort();
      return host == null || !host.equalsIgnoreCase(fromHost);
    } catch (IllegalArgumentException e) {
      return true;
    }
  }
}
