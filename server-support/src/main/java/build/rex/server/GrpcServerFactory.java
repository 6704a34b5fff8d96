package build.rex.server;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** Builds the gRPC servers of rex processes with the same limits, keepalives and metrics. */
public final class GrpcServerFactory {
  /** Above the 4 MB batch limit plus framing, so a full batch always fits in one message. */
  public static final int MAX_INBOUND_MESSAGE_BYTES = 16 << 20;

  /** Headers beyond this (e.g. a giant Authorization header) are refused before any code of ours sees them. */
  public static final int MAX_INBOUND_METADATA_BYTES = 64 << 10;

  /** A window of several chunks keeps large transfers streaming instead of stop-and-go. */
  public static final int FLOW_CONTROL_WINDOW_BYTES = 8 << 20;

  private GrpcServerFactory() {}

  public static Server start(GrpcPort port, GrpcMetrics metrics, Tracing tracing) throws IOException {
    NettyServerBuilder builder = NettyServerBuilder
        .forAddress(new InetSocketAddress(port.endpoint().host, port.endpoint().port), port.credentials())
        .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
        .maxInboundMetadataSize(MAX_INBOUND_METADATA_BYTES)
        .flowControlWindow(FLOW_CONTROL_WINDOW_BYTES)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .addStreamTracerFactory(metrics)
        .intercept(new RequestMetadatas.Interceptor())
        .intercept(tracing.serverInterceptor()); // added last, so it sees every call first
    port.services().forEach(builder::addService);
    return builder.build().start();
  }
}
