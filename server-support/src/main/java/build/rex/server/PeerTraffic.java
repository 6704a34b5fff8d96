package build.rex.server;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientStreamTracer;
import io.grpc.MethodDescriptor;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Counts the bytes this process sends to and receives from its peers on the wire, by the kind
 * of peer (workers or schedulers): the traffic between rex's own processes, as opposed to what
 * clients move ({@link GrpcMetrics}).
 */
public final class PeerTraffic implements ClientInterceptor {
  private final Counter sent;
  private final Counter received;

  public PeerTraffic(MeterRegistry registry, String peerKind) {
    this.sent = Counter.builder("rex.peer.sent.bytes").description("Bytes sent to other rex processes on the wire")
        .baseUnit("bytes").tag("peer", peerKind).register(registry);
    this.received = Counter.builder("rex.peer.received.bytes")
        .description("Bytes received from other rex processes on the wire").baseUnit("bytes").tag("peer", peerKind)
        .register(registry);
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    return next.newCall(method, options.withStreamTracerFactory(new ClientStreamTracer.Factory() {
      @Override
      public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info, io.grpc.Metadata headers) {
        return new ClientStreamTracer() {
          @Override
          public void outboundWireSize(long bytes) {
            sent.increment(bytes);
          }

          @Override
          public void inboundWireSize(long bytes) {
            received.increment(bytes);
          }
        };
      }
    }));
  }
}
