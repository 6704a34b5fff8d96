package build.rex.storage;

import com.google.protobuf.ByteString;
import java.io.IOException;

/** An upload that passes every call to the one below; a layer extends it to act on some of them. */
public abstract class ForwardingBlobWriter implements BlobWriter {
  protected final BlobWriter inner;

  protected ForwardingBlobWriter(BlobWriter inner) {
    this.inner = inner;
  }

  @Override
  public void write(ByteString data) throws IOException {
    inner.write(data);
  }

  @Override
  public long committedSize() {
    return inner.committedSize();
  }

  @Override
  public boolean isComplete() {
    return inner.isComplete();
  }

  @Override
  public void commit() throws IOException {
    inner.commit();
  }

  @Override
  public void onFailure(java.util.function.Consumer<IOException> callback) {
    inner.onFailure(callback);
  }

  @Override
  public void close() throws IOException {
    inner.close();
  }
}
