package build.rex.storage;

import io.grpc.Status;
import java.io.IOException;

/** A storage call to another rex process failed; carries that process's gRPC status. */
public class RemoteStorageException extends IOException {
  private final Status status;

  public RemoteStorageException(Status status) {
    super(status.getCode() + ": " + status.getDescription(), status.getCause());
    this.status = status;
  }

  public Status status() {
    return status;
  }
}
