package build.rex.storage.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.Digests;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import build.rex.storage.service.CasService;
import build.rex.storage.service.CasSettings;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A worker's CAS as the scheduler reaches it: real gRPC over loopback, every call counted. */
class GrpcBlobStoreTest {
  @TempDir Path dir;
  private final AtomicInteger calls = new AtomicInteger();
  private DiskBlobStore disk;
  private Server server;
  private ManagedChannel channel;
  private GrpcBlobStore store;

  @BeforeEach
  void start() throws Exception {
    disk = DiskBlobStore.open(dir, new DiskStoreSettings(1 << 20, 0.5, 0.9, false));
    ServerInterceptor counting = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        calls.incrementAndGet();
        return next.startCall(call, headers);
      }
    };
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(new CasService(disk, CasSettings.DEFAULTS), counting)).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    store = new GrpcBlobStore(channel, "test worker");
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  @Test
  void theEmptyBlobIsAnsweredWithoutACall() throws Exception {
    Digest empty = Digests.of(ByteString.EMPTY);

    assertEquals(Map.of(empty, ByteString.EMPTY), store.getBatch(List.of(empty)));
    assertEquals(Set.of(), store.findMissing(List.of(empty)));
    assertEquals(ByteString.EMPTY, store.get(empty));

    assertEquals(0, calls.get(), "no call reached the worker");
  }

  @Test
  void aBatchReadMixingTheEmptyBlobWithOthersAsksOnlyForTheOthers() throws Exception {
    ByteString data = ByteString.copyFromUtf8("held by the worker");
    Digest present = Digests.of(data);
    disk.put(present, data);
    Digest absent = Digests.of(ByteString.copyFromUtf8("held by no one"));
    Digest empty = Digests.of(ByteString.EMPTY);

    Map<Digest, ByteString> found = store.getBatch(List.of(empty, present, absent));

    assertEquals(Map.of(empty, ByteString.EMPTY, present, data), found, "the absent blob is left out");
    assertEquals(1, calls.get(), "one BatchReadBlobs for the blob that is not empty");
  }
}
