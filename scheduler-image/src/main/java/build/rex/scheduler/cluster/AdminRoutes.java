package build.rex.scheduler.cluster;

import build.rex.scheduler.execution.Dispatcher;
import build.rex.scheduler.execution.WorkerRegistry;
import build.rex.server.AdminServer;
import build.rex.v1.ListWorkersResponse;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.util.function.BiConsumer;

/**
 * The admin port's view of the workers, as JSON (the same messages as the gRPC AdminService):
 * {@code GET /workers} lists them, {@code POST /workers/<id>/drain} starts a drain ({@code DELETE}
 * undoes it) and answers
 * the worker's state; poll it (or GET /workers) until {@code drained} is true. {@code GET
 * /operations} lists the operations this scheduler holds, each with its history.
 */
public final class AdminRoutes {
  private final WorkerRegistry registry;
  private final Dispatcher dispatcher;

  public AdminRoutes(Dispatcher dispatcher) {
    this.registry = dispatcher.workers();
    this.dispatcher = dispatcher;
  }

  public void install(BiConsumer<String, HttpHandler> route) {
    route.accept("/workers", this::handle);
    route.accept("/operations", this::operations);
  }

  /** Every operation this scheduler holds (unfinished, and finished within the retention time) with its history. */
  private void operations(HttpExchange exchange) throws IOException {
    if (!exchange.getRequestMethod().equals("GET")) {
      AdminServer.respond(exchange, 405, "text/plain", "use GET\n");
      return;
    }
    json(exchange, 200, dispatcher.report());
  }

  private void handle(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String method = exchange.getRequestMethod();
    if (path.equals("/workers") || path.equals("/workers/")) {
      if (!method.equals("GET")) {
        AdminServer.respond(exchange, 405, "text/plain", "use GET\n");
        return;
      }
      json(exchange, 200, ListWorkersResponse.newBuilder().addAllWorkers(registry.list()));
      return;
    }
    if (path.startsWith("/workers/") && path.endsWith("/drain")) {
      if (!method.equals("POST") && !method.equals("DELETE")) {
        AdminServer.respond(exchange, 405, "text/plain", "use POST to drain a worker, DELETE to stop draining it\n");
        return;
      }
      String id = path.substring("/workers/".length(), path.length() - "/drain".length());
      var info = registry.drain(id, method.equals("DELETE"));
      if (info.isPresent()) {
        json(exchange, 200, info.get());
      } else {
        AdminServer.respond(exchange, 404, "text/plain", "no worker '" + id + "' is connected to this scheduler\n");
      }
      return;
    }
    AdminServer.respond(exchange, 404, "text/plain", "unknown path " + path + "\n");
  }

  private static void json(HttpExchange exchange, int code, MessageOrBuilder message) throws IOException {
    try {
      AdminServer.respond(exchange, code, "application/json", JsonFormat.printer()
          .includingDefaultValueFields().print(message) + "\n");
    } catch (InvalidProtocolBufferException e) {
      AdminServer.respond(exchange, 500, "text/plain", e.getMessage() + "\n");
    }
  }
}
