package build.rex.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * A process's admin HTTP port: {@code /metrics} in Prometheus format, {@code /healthz} (the
 * process is alive) and {@code /readyz} (it can serve), open to all (Prometheus and the
 * kubelet), and the routes a component adds. The operator runs it as it is; the servers add
 * guarded routes on top (AdminServer).
 */
public final class AdminHttp implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AdminHttp.class);
  private final HttpServer server;
  private final ExecutorService threads;

  public AdminHttp(String host, int port, PrometheusMeterRegistry metrics, BooleanSupplier ready) throws IOException {
    server = HttpServer.create(new InetSocketAddress(host, port), 64);
    AtomicInteger count = new AtomicInteger();
    threads = Executors.newFixedThreadPool(4, task -> {
      Thread thread = new Thread(task, "admin-http-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    server.setExecutor(threads);
    route("/metrics", exchange -> respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
    route("/healthz", exchange -> respond(exchange, 200, "text/plain", "ok\n"));
    route("/readyz", exchange -> {
      boolean isReady = ready.getAsBoolean();
      respond(exchange, isReady ? 200 : 503, "text/plain", isReady ? "ready\n" : "not ready\n");
    });
  }

  /** A route anyone who reaches the port may use; a failure is answered 500 with what failed. */
  public void route(String path, HttpHandler handler) {
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

  public static void respond(HttpExchange exchange, int code, String contentType, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  public AdminHttp start() {
    server.start();
    return this;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
