package build.rex.bench;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import io.grpc.stub.StreamObserver;

/**
 * A ByteStream that counts and drops what it receives: the floor of one gRPC hop on this
 * machine, measured beside rex's figures.
 */
final class DiscardingByteStream extends ByteStreamGrpc.ByteStreamImplBase {
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
