package build.rex.server;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One gRPC channel per peer address (workers, schedulers), opened on first use with the same
 * limits as the servers and the cluster's internal credentials, and closed when the peer leaves
 * the cluster.
 */
public final class PeerChannels implements AutoCloseable {
  private final Map<String, ManagedChannel> channels = new HashMap<>();
  private final ChannelCredentials credentials;
  private final io.grpc.ClientInterceptor[] interceptors;
  private boolean closed;

  public PeerChannels(ChannelCredentials credentials) {
    this(credentials, new io.grpc.ClientInterceptor[0]);
  }

  /** @param interceptors on every call to a peer (traffic counts, trace context) */
  public PeerChannels(ChannelCredentials credentials, io.grpc.ClientInterceptor... interceptors) {
    this.credentials = credentials;
    this.interceptors = interceptors;
  }

  private ManagedChannel openPeer(String target) {
    return builder(target, credentials).intercept(interceptors).build();
  }

  /** A channel with rex's message and flow-control limits and keepalives. */
  public static ManagedChannel open(String target, ChannelCredentials credentials) {
    return builder(target, credentials).build();
  }

  private static NettyChannelBuilder builder(String target, ChannelCredentials credentials) {
    return NettyChannelBuilder.forTarget(target, credentials)
        .maxInboundMessageSize(GrpcServerFactory.MAX_INBOUND_MESSAGE_BYTES)
        .flowControlWindow(GrpcServerFactory.FLOW_CONTROL_WINDOW_BYTES)
        .keepAliveTime(30, TimeUnit.SECONDS);
  }

  /**
   * A one-off channel with the cluster's internal certificate, for tools and tests that talk
   * to a worker or an internal port the way peers do (the files are read once).
   */
  public static ManagedChannel openInternal(String target, build.rex.server.security.InternalTlsConfig tls)
      throws java.io.IOException {
    try (build.rex.server.security.TlsCredentials credentials = new build.rex.server.security.TlsCredentials()) {
      return open(target, credentials.internalChannel(tls));
    }
  }

  /** The channel to {@code address}; after {@link #close} one that is already shut down. */
  public synchronized ManagedChannel get(String address) {
    if (closed) {
      return open(address, credentials).shutdownNow();
    }
    return channels.computeIfAbsent(address, this::openPeer);
  }

  /** Closes the channels of every address not in {@code addresses}. */
  public synchronized void retainOnly(Set<String> addresses) {
    channels.entrySet().removeIf(entry -> {
      if (addresses.contains(entry.getKey())) {
        return false;
      }
      entry.getValue().shutdown();
      return true;
    });
  }

  @Override
  public synchronized void close() {
    closed = true;
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }
}
