package build.rex.server;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Builds the gRPC servers of rex processes with the same limits, keepalives and metrics. */
public final class GrpcServerFactory {
  /** Above the 4 MB batch limit plus framing, so a full batch always fits in one message. */
  public static final int MAX_INBOUND_MESSAGE_BYTES = 16 << 20;

  /** A window of several chunks keeps large transfers streaming instead of stop-and-go. */
  public static final int FLOW_CONTROL_WINDOW_BYTES = 8 << 20;

  private GrpcServerFactory() {}

  public static Server start(Endpoint endpoint, List<BindableService> services, GrpcMetrics metrics) throws IOException {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(endpoint.host, endpoint.port))
        .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
        .flowControlWindow(FLOW_CONTROL_WINDOW_BYTES)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .addStreamTracerFactory(metrics);
    services.forEach(builder::addService);
    return builder.build().start();
  }
}
