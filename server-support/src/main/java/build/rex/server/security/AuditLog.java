package build.rex.server.security;

import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every refused call: logged with who, what and from where, and counted as
 * {@code rex_auth_refused_total{code, method}}.
 */
public final class AuditLog {
  private static final Logger log = LoggerFactory.getLogger("build.rex.audit");
  private final MeterRegistry metrics;

  public AuditLog(MeterRegistry metrics) {
    this.metrics = metrics;
  }

  public void refused(Status.Code code, Identity identity, String method, SocketAddress peer, String reason) {
    log.warn("refused {}: identity={} method={} peer={} reason=\"{}\"", code, identity == null ? "-" : identity,
        method, peer, reason);
    Counter.builder("rex.auth.refused")
        .description("Calls refused for want of credentials, rights or capacity")
        .tag("code", code.name())
        .tag("method", MethodRights.of(method) == null ? "other" : method)
        .register(metrics)
        .increment();
  }
}
