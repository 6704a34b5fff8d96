package build.rex.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import build.rex.server.security.AdminAccess;
import build.rex.storage.DaemonThreads;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * The admin HTTP port of a rex process: {@code /metrics} in Prometheus format, {@code /healthz}
 * (the process is alive) and {@code /readyz} (it can serve), open to all (Prometheus and the
 * kubelet); components add their own routes, which {@link AdminAccess} guards.
 */
public final class AdminServer implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AdminServer.class);
  private final HttpServer server;
  private final AdminAccess access;

  public AdminServer(Endpoint endpoint, PrometheusMeterRegistry metrics, BooleanSupplier ready) throws IOException {
    this(endpoint, metrics, ready, AdminAccess.open());
  }

  public AdminServer(Endpoint endpoint, PrometheusMeterRegistry metrics, BooleanSupplier ready, AdminAccess access)
      throws IOException {
    this.access = access;
    server = HttpServer.create(new InetSocketAddress(endpoint.host, endpoint.port), 64);
    server.setExecutor(Executors.newFixedThreadPool(4, DaemonThreads.named("admin-http")));
    openRoute("/metrics", exchange -> respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
    openRoute("/healthz", exchange -> respond(exchange, 200, "text/plain", "ok\n"));
    openRoute("/readyz", exchange -> {
      boolean isReady = ready.getAsBoolean();
      respond(exchange, isReady ? 200 : 503, "text/plain", isReady ? "ready\n" : "not ready\n");
    });
  }

  /** A route that needs what {@link AdminAccess} asks for. */
  public void route(String path, HttpHandler handler) {
    openRoute(path, exchange -> {
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
    server.createContext(path, exchange -> {
      try (exchange) {
        try {
          handler.handle(exchange);
        } catch (IOException | RuntimeException e) {
          // The JDK's server would close the connection without a word: say what failed.
          log.warn("admin request {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
          if (exchange.getResponseCode() == -1) {
            respond(exchange, 500, "text/plain", "internal error: " + e + "\n");
          }
        }
      }
    });
  }

  public AdminAccess access() {
    return access;
  }

  public static void respond(HttpExchange exchange, int code, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  public AdminServer start() {
    server.start();
    return this;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
