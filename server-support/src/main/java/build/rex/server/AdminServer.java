package build.rex.server;

import build.rex.admin.AdminHttp;
import build.rex.config.Endpoint;
import build.rex.server.security.AdminAccess;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.util.function.BooleanSupplier;

/**
 * The admin HTTP port of a rex server ({@link AdminHttp}: metrics and probes, open to all), with
 * the routes a component adds that {@link AdminAccess} guards.
 */
public final class AdminServer implements AutoCloseable {
  private final AdminHttp http;
  private final AdminAccess access;

  public AdminServer(Endpoint endpoint, PrometheusMeterRegistry metrics, BooleanSupplier ready) throws IOException {
    this(endpoint, metrics, ready, AdminAccess.open());
  }

  public AdminServer(Endpoint endpoint, PrometheusMeterRegistry metrics, BooleanSupplier ready, AdminAccess access)
      throws IOException {
    this.http = new AdminHttp(endpoint.host, endpoint.port, metrics, ready);
    this.access = access;
  }

  /** A route that needs what {@link AdminAccess} asks for. */
  public void route(String path, HttpHandler handler) {
    http.route(path, exchange -> {
      var refusal = access.check(exchange);
      if (refusal.isPresent()) {
        respond(exchange, refusal.get().status(), "text/plain", refusal.get().message() + "\n");
      } else {
        handler.handle(exchange);
      }
    });
  }

  /** A route anyone who reaches the port may use (the UI's login page itself, the probes). */
  public void openRoute(String path, HttpHandler handler) {
    http.route(path, handler);
  }

  public AdminAccess access() {
    return access;
  }

  public static void respond(HttpExchange exchange, int code, String contentType, String body) throws IOException {
    AdminHttp.respond(exchange, code, contentType, body);
  }

  public AdminServer start() {
    http.start();
    return this;
  }

  public int port() {
    return http.port();
  }

  @Override
  public void close() {
    http.close();
  }
}
