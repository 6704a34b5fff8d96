package build.rex.server;

import build.rex.config.Endpoint;

import io.grpc.Server;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * What every rex server process has: a metrics registry, the admin port and its gRPC ports,
 * started and stopped in the right order. Not ready until both ports are up; on close it stops
 * taking calls, lets calls in flight finish, then closes what the subclass registered.
 */
public abstract class ServerProcess implements ServerMain.RunningServer {
  private static final long DRAIN_SECONDS = 10;
  protected final PrometheusMeterRegistry metrics = JvmMeters.bind(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final List<Runnable> endStreams = new ArrayList<>();
  private AdminServer admin;
  private Tracing tracing = Tracing.off();
  private final List<Server> grpc = new ArrayList<>();
  private volatile boolean ready;
  private java.util.function.BooleanSupplier readyWhen = () -> true;

  /** Registers something to close once the gRPC server has stopped. */
  protected <T extends AutoCloseable> T closeOnStop(T resource) {
    resources.add(resource);
    return resource;
  }

  /**
   * Registers what ends long-lived streams (which would otherwise hold up the drain) once the
   * server has stopped taking new calls.
   */
  protected void onDrain(Runnable endStreamsAction) {
    endStreams.add(endStreamsAction);
  }

  /** Adds a condition to /readyz, e.g. that the process can reach what it serves from. */
  protected void readyWhen(java.util.function.BooleanSupplier condition) {
    readyWhen = condition;
  }

  /** Starts this process's tracing (before {@link #serve}); off when the config names no endpoint. */
  protected Tracing startTracing(TracingConfig config, String service, String instance) {
    tracing = closeOnStop(Tracing.of(config, service, instance));
    return tracing;
  }

  protected Tracing tracing() {
    return tracing;
  }

  /** The admin port, for components that add routes of both kinds; after {@link #serve}. */
  protected AdminServer adminServer() {
    return admin;
  }

  /** Adds a route to the admin port; call after {@link #serve}. */
  protected void adminRoute(String path, com.sun.net.httpserver.HttpHandler handler) {
    admin.route(path, handler);
  }

  /** Opens the admin port, then the gRPC ports, the main one first. */
  protected void serve(Endpoint adminEndpoint, GrpcPort... ports) throws IOException {
    build.rex.server.security.AdminAccess access = adminEndpoint instanceof AdminEndpoint a && !a.tokensFile.isEmpty()
        ? build.rex.server.security.AdminAccess.tokens(java.nio.file.Path.of(a.tokensFile))
        : build.rex.server.security.AdminAccess.open();
    admin = new AdminServer(adminEndpoint, metrics, () -> ready && readyWhen.getAsBoolean(), access).start();
    GrpcMetrics grpcMetrics = new GrpcMetrics(metrics);
    for (GrpcPort port : ports) {
      grpc.add(GrpcServerFactory.start(port, grpcMetrics, tracing));
    }
    ready = true;
  }

  /** The main gRPC port: the first one given to {@link #serve}. */
  @Override
  public int grpcPort() {
    return grpcPort(0);
  }

  /** The port of the {@code index}th gRPC server given to {@link #serve}. */
  public int grpcPort(int index) {
    return grpc.get(index).getPort();
  }

  @Override
  public int adminPort() {
    return admin.port();
  }

  @Override
  public void awaitTermination() throws InterruptedException {
    for (Server server : grpc) {
      server.awaitTermination();
    }
  }

  private boolean closed;

  /** Stops the process; a second call does nothing. */
  @Override
  public synchronized void close() throws Exception {
    if (closed) {
      return;
    }
    closed = true;
    LoggerFactory.getLogger(getClass()).info("shutting down: finishing calls in flight");
    ready = false;
    grpc.forEach(Server::shutdown);
    endStreams.forEach(Runnable::run);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
    for (Server server : grpc) {
      if (!server.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        server.shutdownNow();
      }
    }
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
    if (admin != null) {
      admin.close();
    }
  }
}
