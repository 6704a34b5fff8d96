package build.rex.storage.replication;

import build.rex.storage.BlobWriter;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.util.List;
import java.util.function.Consumer;

/**
 * One upload written to several stores at once. It is complete only when every store has the
 * blob, and committed only when every store committed it: the copies are durable before the
 * client hears success.
 */
final class FanOutBlobWriter implements BlobWriter {
  private final List<BlobWriter> writers;
  private final FanOut fanOut;

  FanOutBlobWriter(List<BlobWriter> writers, FanOut fanOut) {
    this.writers = List.copyOf(writers);
    this.fanOut = fanOut;
  }

  @Override
  public void write(ByteString data) throws IOException {
    for (BlobWriter writer : writers) {
      if (!writer.isComplete()) {
        writer.write(data);
      }
    }
  }

  @Override
  public long committedSize() {
    return writers.stream().mapToLong(BlobWriter::committedSize).min().orElse(0);
  }

  @Override
  public boolean isComplete() {
    return writers.stream().allMatch(BlobWriter::isComplete);
  }

  @Override
  public void commit() throws IOException {
    fanOut.allOrFail(writers, writer -> {
      if (!writer.isComplete()) {
        writer.commit();
      }
    });
  }

  @Override
  public void onFailure(Consumer<IOException> callback) {
    writers.forEach(writer -> writer.onFailure(callback));
  }

  @Override
  public void close() throws IOException {
    IOException first = null;
    for (BlobWriter writer : writers) {
      try {
        writer.close();
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
