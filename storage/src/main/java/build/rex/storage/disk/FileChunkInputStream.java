package build.rex.storage.disk;

import build.rex.storage.ChunkedInput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** A blob file as a stream that reads each chunk into a fresh array and wraps it without a copy. */
final class FileChunkInputStream extends InputStream implements ChunkedInput {
  private final FileChannel channel;

  FileChunkInputStream(FileChannel channel) {
    this.channel = channel;
  }

  @Override
  public ByteString readChunk(int maxBytes) throws IOException {
    int size = (int) Math.min(maxBytes, channel.size() - channel.position());
    if (size <= 0) {
      return ByteString.EMPTY;
    }
    byte[] chunk = new byte[size];
    ByteBuffer buffer = ByteBuffer.wrap(chunk);
    while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
      // fill the whole chunk
    }
    // The array is never written again, so wrapping it is safe.
    return UnsafeByteOperations.unsafeWrap(chunk, 0, buffer.position());
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    return channel.read(ByteBuffer.wrap(buffer, offset, length));
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
