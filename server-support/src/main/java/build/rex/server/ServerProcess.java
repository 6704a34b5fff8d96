package build.rex.server;

import io.grpc.BindableService;
import io.grpc.Server;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * What every rex server process has: a metrics registry, the admin port and one gRPC port,
 * started and stopped in the right order. Not ready until both ports are up; on close it stops
 * taking calls, lets calls in flight finish, then closes what the subclass registered.
 */
public abstract class ServerProcess implements ServerMain.RunningServer {
  private static final long DRAIN_SECONDS = 10;
  protected final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final List<Runnable> endStreams = new ArrayList<>();
  private AdminServer admin;
  private Server grpc;
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

  /** Adds a route to the admin port; call after {@link #serve}. */
  protected void adminRoute(String path, com.sun.net.httpserver.HttpHandler handler) {
    admin.route(path, handler);
  }

  /** Opens the admin port, then the gRPC port with these services. */
  protected void serve(Endpoint grpcEndpoint, Endpoint adminEndpoint, List<BindableService> services) throws IOException {
    admin = new AdminServer(adminEndpoint, metrics, () -> ready && readyWhen.getAsBoolean()).start();
    grpc = GrpcServerFactory.start(grpcEndpoint, services, new GrpcMetrics(metrics));
    ready = true;
  }

  @Override
  public int grpcPort() {
    return grpc.getPort();
  }

  @Override
  public int adminPort() {
    return admin.port();
  }

  @Override
  public void awaitTermination() throws InterruptedException {
    grpc.awaitTermination();
  }

  @Override
  public void close() throws Exception {
    LoggerFactory.getLogger(getClass()).info("shutting down: finishing calls in flight");
    ready = false;
    if (grpc != null) {
      grpc.shutdown();
      endStreams.forEach(Runnable::run);
      if (!grpc.awaitTermination(DRAIN_SECONDS, TimeUnit.SECONDS)) {
        grpc.shutdownNow();
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
