package build.rex.storage.service;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobCorruptException;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobTooLargeException;
import build.rex.storage.DigestMismatchException;
import build.rex.storage.Digests;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.RemoteStorageException;
import build.rex.storage.StorageFullException;
import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.PreconditionFailure;
import com.google.rpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.io.InterruptedIOException;
import java.util.Collection;

/**
 * Turns failures into the gRPC statuses (with the error details) that the REAPI asks for:
 * INVALID_ARGUMENT carries a BadRequest, missing inputs a PreconditionFailure of type MISSING.
 */
public final class Statuses {
  private Statuses() {}

  public static Status invalidArgument(String field, String message) {
    BadRequest details = BadRequest.newBuilder()
        .addFieldViolations(BadRequest.FieldViolation.newBuilder().setField(field).setDescription(message))
        .build();
    return Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(message)
        .addDetails(Any.pack(details)).build();
  }

  /** FAILED_PRECONDITION naming every missing blob, as Execute and UpdateActionResult report it. */
  public static Status missingBlobs(Collection<Digest> missing, String message) {
    PreconditionFailure.Builder failure = PreconditionFailure.newBuilder();
    for (Digest digest : missing) {
      failure.addViolationsBuilder().setType("MISSING").setSubject("blobs/" + Digests.toString(digest))
          .setDescription("blob is not in the CAS");
    }
    return Status.newBuilder().setCode(Code.FAILED_PRECONDITION_VALUE).setMessage(message)
        .addDetails(Any.pack(failure.build())).build();
  }

  public static Status of(io.grpc.Status.Code code, String message) {
    return Status.newBuilder().setCode(code.value()).setMessage(message == null ? "" : message).build();
  }

  /** The status a failure should be reported with, for whole calls and for single blobs alike. */
  public static Status of(Throwable t) {
    if (t instanceof InvalidArgumentException e) {
      return invalidArgument("", e.getMessage());
    }
    if (t instanceof DigestMismatchException e) {
      return invalidArgument("digest", e.getMessage());
    }
    if (t instanceof BlobCorruptException e) {
      return of(io.grpc.Status.Code.DATA_LOSS, e.getMessage());
    }
    if (t instanceof BlobNotFoundException e) {
      return of(io.grpc.Status.Code.NOT_FOUND, e.getMessage());
    }
    if (t instanceof BlobTooLargeException || t instanceof StorageFullException) {
      return of(io.grpc.Status.Code.RESOURCE_EXHAUSTED, t.getMessage());
    }
    if (t instanceof RemoteStorageException e) {
      return of(e.status().getCode(), e.status().getDescription());
    }
    if (t instanceof StatusRuntimeException e) {
      Status details = StatusProto.fromThrowable(e);
      return details != null ? details : of(e.getStatus().getCode(), e.getStatus().getDescription());
    }
    if (t instanceof InterruptedIOException) {
      return of(io.grpc.Status.Code.CANCELLED, t.getMessage());
    }
    return of(io.grpc.Status.Code.INTERNAL, t.getClass().getSimpleName() + ": " + t.getMessage());
  }

  public static StatusRuntimeException exception(Status status) {
    return StatusProto.toStatusRuntimeException(status);
  }

  public static StatusRuntimeException exception(Throwable t) {
    return exception(of(t));
  }
}
