package build.rex.storage;

import com.google.protobuf.ByteString;
import java.io.Closeable;
import java.io.IOException;

/**
 * An upload in progress. Bytes are appended with {@link #write}; {@link #commit} checks size and
 * hash and makes the blob visible. Closing an uncommitted writer discards what it received.
 */
public interface BlobWriter extends Closeable {

  /** Appends bytes to the blob. */
  void write(ByteString data) throws IOException;

  /** How many bytes were accepted so far. */
  long committedSize();

  /**
   * True when the blob is already stored (before or during this upload), so the caller may stop
   * sending bytes.
   */
  boolean isComplete();

  /**
   * Verifies and publishes the blob.
   *
   * @throws DigestMismatchException when the bytes do not match the digest
   */
  void commit() throws IOException;

  /**
   * Registers what to do when the store fails the upload by itself, between writes (a remote
   * store rejecting it, say). Stores that only fail inside write and commit need not call it.
   */
  default void onFailure(java.util.function.Consumer<IOException> callback) {}

  /** Discards the upload unless it was committed. */
  @Override
  void close() throws IOException;
}
