package build.rex.bench;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * A ByteStream with no storage behind it: writes are counted and dropped, and a read of
 * {@code blobs/<hash>/<size>} gets that many bytes of a pattern held in memory, in the chunks
 * rex sends. The floor of one gRPC hop on this machine, measured beside rex's figures.
 */
final class StorelessByteStream extends ByteStreamGrpc.ByteStreamImplBase {
  private static final int CHUNK = 1 << 20;
  private final ByteString pattern;

  /** @param pattern what reads are served from, over and over; a multiple of 1 MiB */
  StorelessByteStream(byte[] pattern) {
    this.pattern = UnsafeByteOperations.unsafeWrap(pattern);
  }

  @Override
  public void read(ReadRequest request, StreamObserver<ReadResponse> response) {
    String name = request.getResourceName();
    long size = Long.parseLong(name.substring(name.lastIndexOf('/') + 1));
    ServerCallStreamObserver<ReadResponse> out = (ServerCallStreamObserver<ReadResponse>) response;
    Runnable pump = new Runnable() {
      private long sent;
      private boolean completed;

      @Override
      public synchronized void run() {
        if (completed) {
          return; // a late onReady
        }
        while (sent < size && out.isReady()) {
          int length = (int) Math.min(CHUNK, size - sent);
          int from = (int) (sent % pattern.size());
          out.onNext(ReadResponse.newBuilder().setData(pattern.substring(from, from + length)).build());
          sent += length;
        }
        if (sent == size) {
          completed = true;
          out.onCompleted();
        }
      }
    };
    out.setOnReadyHandler(pump);
    pump.run();
  }

  @Override
  public StreamObserver<WriteRequest> write(StreamObserver<WriteResponse> response) {
    return new StreamObserver<>() {
      private long received;

      @Override
      public void onNext(WriteRequest request) {
        received += request.getData().size();
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        response.onNext(WriteResponse.newBuilder().setCommittedSize(received).build());
        response.onCompleted();
      }
    };
  }
}
