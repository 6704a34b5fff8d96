package build.rex.server;

import build.rex.config.Validated;
import build.rex.config.Endpoint;

import java.util.Set;

/** The keys every server's config file has: its two ports and its log level. */
public abstract class ServerConfig implements Validated {
  private static final Set<String> LOG_LEVELS = Set.of("error", "warn", "info", "debug", "trace");

  /** The gRPC port. */
  public Endpoint grpc;
  /** The admin HTTP port: /metrics, /healthz, /readyz, and the component's API and UI. */
  public AdminEndpoint admin;
  /** Spans over OTLP; off by default. */
  public TracingConfig tracing = new TracingConfig();
  /** One of error, warn, info, debug, trace. */
  public String logLevel = "info";

  protected ServerConfig(int grpcPort, int adminPort) {
    grpc = new Endpoint("0.0.0.0", grpcPort);
    admin = new AdminEndpoint("0.0.0.0", adminPort);
  }

  @Override
  public void validate() {
    Validated.require(grpc != null, "grpc", "must be set");
    Validated.require(admin != null, "admin", "must be set");
    grpc.validate("grpc");
    admin.validate("admin");
    Validated.require(tracing != null, "tracing", "must be set");
    tracing.validate("tracing");
    Validated.require(logLevel != null && LOG_LEVELS.contains(logLevel), "logLevel",
        "must be one of " + LOG_LEVELS + "; got " + logLevel);
    validateComponent();
  }

  /** Checks the component's own keys. */
  protected abstract void validateComponent();
}
