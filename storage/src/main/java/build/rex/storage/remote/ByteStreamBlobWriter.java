package build.rex.storage.remote;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobResourceName;
import build.rex.storage.BlobWriter;
import build.rex.storage.RemoteStorageException;
import com.google.bytestream.ByteStreamGrpc.ByteStreamStub;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * An upload to a remote ByteStream. Writes block while the transport is not ready, so a fast
 * producer cannot buffer a whole large blob in memory.
 */
final class ByteStreamBlobWriter implements BlobWriter {
  /** Largest data field per message: well under the 4 MiB default limit. */
  static final int CHUNK_BYTES = 1 << 20;

  private final Digest digest;
  private final String resourceName;
  private final Object readiness = new Object();
  private final CompletableFuture<WriteResponse> response = new CompletableFuture<>();
  private final ClientCallStreamObserver<WriteRequest> requests;
  private long written;
  private boolean finished;

  ByteStreamBlobWriter(ByteStreamStub stub, Digest digest) {
    this.digest = digest;
    this.resourceName = BlobResourceName.upload("", UUID.randomUUID().toString(), digest).format();
    Observer observer = new Observer();
    // Forked: the upload outlives the incoming call that started it, so an interrupted client
    // upload can be resumed instead of being cancelled along with that call.
    io.grpc.Context uploadContext = io.grpc.Context.current().fork();
    io.grpc.Context previous = uploadContext.attach();
    try {
      stub.write(observer);
    } finally {
      uploadContext.detach(previous);
    }
    this.requests = observer.requests;
  }

  private final class Observer implements ClientResponseObserver<WriteRequest, WriteResponse> {
    ClientCallStreamObserver<WriteRequest> requests;

    @Override
    public void beforeStart(ClientCallStreamObserver<WriteRequest> stream) {
      this.requests = stream;
      stream.setOnReadyHandler(ByteStreamBlobWriter.this::wakeWriter);
    }

    @Override
    public void onNext(WriteResponse value) {
      response.complete(value);
      wakeWriter();
    }

    @Override
    public void onError(Throwable t) {
      response.completeExceptionally(t);
      wakeWriter();
    }

    @Override
    public void onCompleted() {
      response.completeExceptionally(Status.INTERNAL.withDescription("write closed without a response").asException());
      wakeWriter();
    }
  }

  private void wakeWriter() {
    synchronized (readiness) {
      readiness.notifyAll();
    }
  }

  @Override
  public void write(ByteString data) throws IOException {
    for (int from = 0; from < data.size() && !response.isDone(); from += CHUNK_BYTES) {
      ByteString chunk = data.substring(from, Math.min(data.size(), from + CHUNK_BYTES));
      awaitReady();
      if (response.isDone()) {
        break; // the server already has the blob (isComplete() says so), or failed (thrown below)
      }
      requests.onNext(request(chunk, false));
      written += chunk.size();
    }
    throwIfFailed();
  }

  /** Surfaces a failure of the remote side as soon as it is known, not only at commit. */
  private void throwIfFailed() throws IOException {
    if (response.isCompletedExceptionally()) {
      try {
        response.join();
      } catch (java.util.concurrent.CompletionException e) {
        throw GrpcBlobStore.failure(StatusRuntimeExceptions.of(e.getCause()), digest);
      }
    }
  }

  private WriteRequest request(ByteString data, boolean finish) {
    WriteRequest.Builder request = WriteRequest.newBuilder().setWriteOffset(written).setData(data).setFinishWrite(finish);
    if (written == 0) {
      request.setResourceName(resourceName);
    }
    return request.build();
  }

  private void awaitReady() throws IOException {
    synchronized (readiness) {
      while (!requests.isReady() && !response.isDone()) {
        try {
          readiness.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          requests.cancel("interrupted", e);
          throw new InterruptedIOException("interrupted while uploading " + resourceName);
        }
      }
    }
  }

  @Override
  public void onFailure(java.util.function.Consumer<IOException> callback) {
    response.whenCompleteAsync((value, error) -> { // async: never under the caller's locks
      if (error != null && !finished) {
        callback.accept(GrpcBlobStore.failure(StatusRuntimeExceptions.of(error), digest));
      }
    });
  }

  @Override
  public long committedSize() {
    return written;
  }

  @Override
  public boolean isComplete() {
    return response.isDone() && !response.isCompletedExceptionally()
        && response.join().getCommittedSize() == digest.getSizeBytes();
  }

  @Override
  public void commit() throws IOException {
    if (!response.isDone() && !finished) {
      finished = true;
      requests.onNext(request(ByteString.EMPTY, true));
      requests.onCompleted();
    }
    WriteResponse result;
    try {
      result = response.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while committing " + resourceName);
    } catch (ExecutionException e) {
      throw GrpcBlobStore.failure(StatusRuntimeExceptions.of(e.getCause()), digest);
    }
    if (result.getCommittedSize() != digest.getSizeBytes()) {
      throw new RemoteStorageException(Status.INTERNAL.withDescription("remote committed " + result.getCommittedSize()
          + " bytes of " + digest.getSizeBytes() + " for " + resourceName));
    }
  }

  @Override
  public void close() {
    if (!response.isDone() && !finished) {
      requests.cancel("upload abandoned", null);
    }
  }

  /** Turns whatever a call failed with into a StatusRuntimeException. */
  static final class StatusRuntimeExceptions {
    static StatusRuntimeException of(Throwable t) {
      return t instanceof StatusRuntimeException e ? e : Status.fromThrowable(t).asRuntimeException();
    }
  }
}
