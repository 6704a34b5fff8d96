package build.rex.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import build.rex.storage.DaemonThreads;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * The admin HTTP port of a rex process: {@code /metrics} in Prometheus format, {@code /healthz}
 * (the process is alive) and {@code /readyz} (it can serve). Components add their own routes.
 */
public final class AdminServer implements AutoCloseable {
  private final HttpServer server;

  public AdminServer(Endpoint endpoint, PrometheusMeterRegistry metrics, BooleanSupplier ready) throws IOException {
    server = HttpServer.create(new InetSocketAddress(endpoint.host, endpoint.port), 64);
    server.setExecutor(Executors.newFixedThreadPool(2, DaemonThreads.named("admin-http")));
    route("/metrics", exchange -> respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
    route("/healthz", exchange -> respond(exchange, 200, "text/plain", "ok\n"));
    route("/readyz", exchange -> {
      boolean isReady = ready.getAsBoolean();
      respond(exchange, isReady ? 200 : 503, "text/plain", isReady ? "ready\n" : "not ready\n");
    });
  }

  public void route(String path, HttpHandler handler) {
    server.createContext(path, exchange -> {
      try (exchange) {
        handler.handle(exchange);
      }
    });
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
