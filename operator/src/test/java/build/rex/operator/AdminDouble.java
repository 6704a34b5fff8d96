package build.rex.operator;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for the schedulers' admin HTTP API: answers {@code POST /workers/<id>/drain} the
 * way a scheduler does (the worker's JSON, or 404 for an unknown worker) and records each call,
 * and {@code GET /api/cluster} with a queue the test sets. A test decides when each worker is drained.
 */
public final class AdminDouble implements AutoCloseable {
  public final List<String> drainCalls = new CopyOnWriteArrayList<>();
  private final Map<String, Boolean> drained = new ConcurrentHashMap<>();
  private final HttpServer server;

  public AdminDouble() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/workers/", exchange -> {
      String path = exchange.getRequestURI().getPath();
      String id = path.substring("/workers/".length(), path.length() - "/drain".length());
      drainCalls.add(exchange.getRequestMethod() + " " + path);
      Boolean done = drained.get(id);
      byte[] body;
      int code;
      if (done == null) {
        code = 404;
        body = ("no worker '" + id + "' is connected to this scheduler\n").getBytes(StandardCharsets.UTF_8);
      } else {
        code = 200;
        body = ("{\"workerId\":\"" + id + "\",\"address\":\"10.0.0.1:8981\",\"executors\":2,\"busyExecutors\":0,"
            + "\"draining\":true,\"drained\":" + done + ",\"detail\":\""
            + (done ? "drained: safe to remove" : "copying 12 blobs to their other owners") + "\"}")
            .getBytes(StandardCharsets.UTF_8);
      }
      exchange.sendResponseHeaders(code, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.createContext("/api/cluster", exchange -> {
      byte[] body = ("{\"queues\":[{\"platform\":\"OSFamily=linux\",\"queued\":" + queued + "}],"
          + "\"executors\":[{\"platform\":\"OSFamily=linux,cpu=1,memory=2Gi,pool=default\",\"total\":6,\"busy\":"
          + busy + "}],\"workers\":[" + String.join(",", sandboxes.entrySet().stream().map(worker -> "{\"workerId\":\""
          + worker.getKey() + "\",\"sandboxLayers\":[" + String.join(",", worker.getValue().stream()
          .map(layer -> "\"" + layer + "\"").toList()) + "]}").toList()) + "]}").getBytes(StandardCharsets.UTF_8);
      loadCalls.incrementAndGet();
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
  }

  private final Map<String, List<String>> sandboxes = new java.util.concurrent.ConcurrentSkipListMap<>();

  /** A connected worker's sandbox layers, as GET /api/cluster lists them. */
  public void sandbox(String workerId, List<String> layers) {
    sandboxes.put(workerId, layers);
  }

  private volatile int queued;
  private volatile int busy;
  /** How often the queue was read. */
  public final java.util.concurrent.atomic.AtomicInteger loadCalls = new java.util.concurrent.atomic.AtomicInteger();

  /** What GET /api/cluster reports: actions waiting for OSFamily=linux, busy executors of the default pool. */
  public void queue(int queued, int busy) {
    this.queued = queued;
    this.busy = busy;
  }

  /** A connected worker that is not drained yet. */
  public void connect(String workerId) {
    drained.putIfAbsent(workerId, false);
  }

  public void finishDrain(String workerId) {
    drained.put(workerId, true);
  }

  public URI uri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
