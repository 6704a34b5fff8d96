package build.rex.storage;

import java.io.IOException;

/** A store that cannot take a blob now without losing blobs in use; clients see RESOURCE_EXHAUSTED. */
public final class StorageFullException extends IOException {
  public StorageFullException(String message) {
    super(message);
  }
}
