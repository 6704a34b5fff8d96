package build.rex.storage.service;

import com.github.luben.zstd.ZstdOutputStream;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import build.rex.storage.ChunkedInput;

/** The chunks a ByteStream Read sends: raw bytes of a blob, or the same bytes zstd-compressed. */
interface ChunkSource extends Closeable {
  /** The next chunk, or null at the end. */
  ByteString next() throws IOException;

  static ChunkSource raw(InputStream in, long limit, int chunkBytes) {
    return new ChunkSource() {
      private long remaining = limit;

      @Override
      public ByteString next() throws IOException {
        if (remaining <= 0) {
          return null;
        }
        int want = (int) Math.min(chunkBytes, remaining);
        ByteString chunk = in instanceof ChunkedInput chunked
            ? chunked.readChunk(want)
            : UnsafeByteOperations.unsafeWrap(in.readNBytes(want));
        if (chunk.isEmpty()) {
          return null;
        }
        remaining -= chunk.size();
        return chunk;
      }

      @Override
      public void close() throws IOException {
        in.close();
      }
    };
  }

  static ChunkSource zstd(ChunkSource raw) throws IOException {
    ByteArrayOutputStream compressed = new ByteArrayOutputStream();
    ZstdOutputStream encoder = new ZstdOutputStream(compressed, 1);
    return new ChunkSource() {
      private boolean ended;

      @Override
      public ByteString next() throws IOException {
        while (compressed.size() == 0 && !ended) {
          ByteString chunk = raw.next();
          if (chunk == null) {
            encoder.close();
            ended = true;
          } else {
            chunk.writeTo(encoder);
          }
        }
        if (compressed.size() == 0) {
          return null;
        }
        ByteString out = ByteString.copyFrom(compressed.toByteArray());
        compressed.reset();
        return out;
      }

      @Override
      public void close() throws IOException {
        raw.close();
      }
    };
  }
}
