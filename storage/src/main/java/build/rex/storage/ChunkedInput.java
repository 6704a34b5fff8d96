package build.rex.storage;

import com.google.protobuf.ByteString;
import java.io.IOException;

/**
 * A blob stream that can hand out its bytes as ByteStrings without copying them again, so a
 * ByteStream Read passes chunks from disk or from a worker straight to the client.
 */
public interface ChunkedInput {
  /** Up to {@code maxBytes} next bytes; empty at the end. */
  ByteString readChunk(int maxBytes) throws IOException;
}
