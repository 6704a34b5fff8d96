package build.rex.storage.service;

import build.rex.storage.BlobWriter;
import build.rex.storage.InvalidArgumentException;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Feeds a zstd stream, chunk by chunk as it arrives, into a writer of the uncompressed blob. */
final class ZstdDecompressingWriter {
  private static final int OUTPUT_BYTES = 1 << 20;
  private final BlobWriter inner;
  private final ZstdDecompressCtx context = new ZstdDecompressCtx();
  private final ByteBuffer output = ByteBuffer.allocateDirect(OUTPUT_BYTES);
  private ByteBuffer input = ByteBuffer.allocateDirect(64 << 10);
  private long compressedBytes;

  ZstdDecompressingWriter(BlobWriter inner) {
    this.inner = inner;
  }

  void write(ByteString compressed) throws IOException, InvalidArgumentException {
    if (input.capacity() < compressed.size()) {
      input = ByteBuffer.allocateDirect(compressed.size());
    }
    input.clear();
    compressed.copyTo(input);
    input.flip();
    compressedBytes += compressed.size();
    try {
      do {
        output.clear();
        context.decompressDirectByteBufferStream(output, input);
        output.flip();
        if (output.hasRemaining()) {
          inner.write(ByteString.copyFrom(output));
        }
      } while (input.hasRemaining() || output.limit() == output.capacity());
    } catch (ZstdException e) {
      throw new InvalidArgumentException("the zstd stream is corrupt: " + e.getMessage());
    }
  }

  /** Compressed bytes received: the offset space of a compressed upload. */
  long compressedBytes() {
    return compressedBytes;
  }

  void close() {
    context.close();
  }
}
