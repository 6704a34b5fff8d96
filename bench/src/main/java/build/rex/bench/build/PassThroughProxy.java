package build.rex.bench.build;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.HandlerRegistry;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A second hop and nothing else: a gRPC server that forwards every call, its headers and its
 * messages as unparsed bytes, to one upstream server, and the answers back. Put in front of the
 * reference server, it measures what a two-hop design (client, front door, storage) costs at the
 * least with grpc-java: no parsing, no storage, no thread hand-offs (every callback runs on
 * Netty's event loops), flow control passed through message by message.
 *
 * <p>{@code java -cp rex-bench.jar build.rex.bench.build.PassThroughProxy LISTEN_PORT UPSTREAM_PORT}
 */
public final class PassThroughProxy {
  private static final int MAX_MESSAGE_BYTES = 64 << 20;
  /** As rex's servers have (GrpcServerFactory), so large transfers stream as they do there. */
  private static final int FLOW_CONTROL_WINDOW_BYTES = 8 << 20;

  private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  private PassThroughProxy() {}

  public static void main(String[] args) throws Exception {
    int listenPort = Integer.parseInt(args[0]);
    ManagedChannel upstream = NettyChannelBuilder.forAddress("127.0.0.1", Integer.parseInt(args[1])).usePlaintext()
        .directExecutor().maxInboundMessageSize(MAX_MESSAGE_BYTES).flowControlWindow(FLOW_CONTROL_WINDOW_BYTES)
        .build();
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", listenPort)).directExecutor()
        .maxInboundMessageSize(MAX_MESSAGE_BYTES).flowControlWindow(FLOW_CONTROL_WINDOW_BYTES)
        .fallbackHandlerRegistry(new HandlerRegistry() {
          /** gRPC looks a method up on every call: each is built once. */
          private final Map<String, ServerMethodDefinition<byte[], byte[]>> methods = new ConcurrentHashMap<>();
          private final ServerCallHandler<byte[], byte[]> handler = forwardingTo(upstream);

          @Override
          public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
            return methods.computeIfAbsent(methodName, name -> ServerMethodDefinition.create(
                MethodDescriptor.newBuilder(BYTES, BYTES).setFullMethodName(name)
                    .setType(MethodDescriptor.MethodType.UNKNOWN).build(), handler));
          }
        }).build().start();
    System.out.println("pass-through proxy on 127.0.0.1:" + listenPort + " to 127.0.0.1:" + args[1]);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdownNow();
      upstream.shutdownNow();
    }));
    server.awaitTermination();
  }

  private static ServerCallHandler<byte[], byte[]> forwardingTo(ManagedChannel upstream) {
    return (serverCall, headers) -> {
      Deadline deadline = Context.current().getDeadline();
      ClientCall<byte[], byte[]> clientCall = upstream.newCall(serverCall.getMethodDescriptor(),
          deadline == null ? CallOptions.DEFAULT : CallOptions.DEFAULT.withDeadline(deadline));
      ForwardedCall call = new ForwardedCall(serverCall, clientCall);
      clientCall.start(call.upstreamListener, headers);
      serverCall.request(1);
      clientCall.request(1);
      return call.clientListener;
    };
  }

  /**
   * One call, both ways. The client's side runs on the server's event loop and the upstream's on
   * the channel's, and neither call object may be used from two threads at once: one lock.
   */
  private static final class ForwardedCall {
    private final ServerCall<byte[], byte[]> serverCall;
    private final ClientCall<byte[], byte[]> clientCall;

    ForwardedCall(ServerCall<byte[], byte[]> serverCall, ClientCall<byte[], byte[]> clientCall) {
      this.serverCall = serverCall;
      this.clientCall = clientCall;
    }

    /** Messages one way: a message is asked of the sender only when the receiver can take it now. */
    private abstract static class Leg {
      private boolean heldBack;

      abstract void send(byte[] message);

      abstract boolean receiverReady();

      abstract void requestNext();

      final void forward(byte[] message) {
        send(message);
        if (receiverReady()) {
          requestNext();
        } else {
          heldBack = true;
        }
      }

      final void receiverBecameReady() {
        if (heldBack && receiverReady()) {
          heldBack = false;
          requestNext();
        }
      }
    }

    private final Leg requests = new Leg() {
      @Override
      void send(byte[] message) {
        clientCall.sendMessage(message);
      }

      @Override
      boolean receiverReady() {
        return clientCall.isReady();
      }

      @Override
      void requestNext() {
        serverCall.request(1);
      }
    };

    private final Leg responses = new Leg() {
      @Override
      void send(byte[] message) {
        serverCall.sendMessage(message);
      }

      @Override
      boolean receiverReady() {
        return serverCall.isReady();
      }

      @Override
      void requestNext() {
        clientCall.request(1);
      }
    };

    final ServerCall.Listener<byte[]> clientListener = new ServerCall.Listener<>() {
      @Override
      public void onMessage(byte[] message) {
        synchronized (ForwardedCall.this) {
          requests.forward(message);
        }
      }

      @Override
      public void onHalfClose() {
        synchronized (ForwardedCall.this) {
          clientCall.halfClose();
        }
      }

      @Override
      public void onCancel() {
        synchronized (ForwardedCall.this) {
          clientCall.cancel("the client cancelled the call", null);
        }
      }

      @Override
      public void onReady() {
        synchronized (ForwardedCall.this) {
          responses.receiverBecameReady();
        }
      }
    };

    final ClientCall.Listener<byte[]> upstreamListener = new ClientCall.Listener<>() {
      @Override
      public void onHeaders(Metadata headers) {
        synchronized (ForwardedCall.this) {
          serverCall.sendHeaders(headers);
        }
      }

      @Override
      public void onMessage(byte[] message) {
        synchronized (ForwardedCall.this) {
          responses.forward(message);
        }
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        synchronized (ForwardedCall.this) {
          serverCall.close(status, trailers);
        }
      }

      @Override
      public void onReady() {
        synchronized (ForwardedCall.this) {
          requests.receiverBecameReady();
        }
      }
    };
  }
}
