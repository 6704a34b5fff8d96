package build.rex.storage.remote;

import build.bazel.remote.execution.v2.Digest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.protobuf.ByteString;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;

/** The bytes of a ByteStream Read call as an InputStream; closing it early cancels the call. */
final class ByteStreamInputStream extends InputStream implements build.rex.storage.ChunkedInput {
  private final Iterator<ReadResponse> responses;
  private final Context.CancellableContext context;
  private final Digest digest;
  private ByteString chunk = ByteString.EMPTY;
  private int position;

  ByteStreamInputStream(Iterator<ReadResponse> responses, Context.CancellableContext context, Digest digest) {
    this.responses = responses;
    this.context = context;
    this.digest = digest;
  }

  /** Waits for the first message so that NOT_FOUND surfaces from openRead itself. */
  void awaitFirstResponse() throws IOException {
    try {
      responses.hasNext();
    } catch (StatusRuntimeException e) {
      context.cancel(null);
      throw GrpcBlobStore.failure(e, digest);
    }
  }

  private boolean fill() throws IOException {
    try {
      while (position >= chunk.size()) {
        if (!responses.hasNext()) {
          return false;
        }
        chunk = responses.next().getData();
        position = 0;
      }
      return true;
    } catch (StatusRuntimeException e) {
      throw GrpcBlobStore.failure(e, digest);
    }
  }

  @Override
  public ByteString readChunk(int maxBytes) throws IOException {
    if (!fill()) {
      return ByteString.EMPTY;
    }
    int n = Math.min(maxBytes, chunk.size() - position);
    ByteString out = chunk.substring(position, position + n);
    position += n;
    return out;
  }

  @Override
  public int read() throws IOException {
    return fill() ? chunk.byteAt(position++) & 0xff : -1;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    if (length == 0) {
      return 0;
    }
    if (!fill()) {
      return -1;
    }
    int n = Math.min(length, chunk.size() - position);
    chunk.copyTo(buffer, position, offset, n);
    position += n;
    return n;
  }

  @Override
  public void close() {
    context.cancel(null);
  }
}
