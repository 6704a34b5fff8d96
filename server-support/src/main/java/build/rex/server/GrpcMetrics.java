package build.rex.server;

import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Counts every gRPC call a server handles, by method and status code, with its latency (from
 * the stream's start to its close, as a histogram), and the bytes it received and sent on the
 * wire, by method.
 */
public final class GrpcMetrics extends ServerStreamTracer.Factory {
  private final MeterRegistry registry;

  public GrpcMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
    return new CallTracer(fullMethodName);
  }

  private final class CallTracer extends ServerStreamTracer {
    private final String method;
    private final long startNanos = System.nanoTime();
    private long received;
    private long sent;

    CallTracer(String method) {
      this.method = method;
    }

    @Override
    public void inboundWireSize(long bytes) {
      received += bytes;
    }

    @Override
    public void outboundWireSize(long bytes) {
      sent += bytes;
    }

    @Override
    public void streamClosed(Status status) {
      Counter.builder("rex.grpc.server.requests").tag("method", method).tag("code", status.getCode().name())
          .register(registry).increment();
      Timer.builder("rex.grpc.server.duration").description("Time from a call's start to its end, by method and code")
          .tag("method", method).tag("code", status.getCode().name()).publishPercentileHistogram()
          .minimumExpectedValue(java.time.Duration.ofMillis(1)).maximumExpectedValue(java.time.Duration.ofMinutes(10))
          .register(registry).record(System.nanoTime() - startNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
      Counter.builder("rex.grpc.server.received.bytes").tag("method", method).register(registry).increment(received);
      Counter.builder("rex.grpc.server.sent.bytes").tag("method", method).register(registry).increment(sent);
    }
  }
}
