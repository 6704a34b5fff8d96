package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.rex.storage.service.ResultInliner;
import com.google.longrunning.Operation;
import com.google.protobuf.Any;
import io.grpc.stub.StreamObserver;
import java.io.IOException;

/**
 * Passes Operations to one Execute caller, inlining stdout, stderr and output files into the
 * final result as that caller asked (merged callers may ask differently). Inlining is a hint:
 * if it fails, the result goes out with digests only.
 */
final class InliningObserver implements StreamObserver<Operation> {
  private final StreamObserver<Operation> client;
  private final ExecuteRequest request;
  private final ResultInliner inliner;

  InliningObserver(StreamObserver<Operation> client, ExecuteRequest request, ResultInliner inliner) {
    this.client = client;
    this.request = request;
    this.inliner = inliner;
  }

  static boolean wanted(ExecuteRequest request) {
    return request.getInlineStdout() || request.getInlineStderr() || request.getInlineOutputFilesCount() > 0;
  }

  @Override
  public void onNext(Operation operation) {
    client.onNext(operation.getDone() && operation.hasResponse() ? inline(operation) : operation);
  }

  private Operation inline(Operation operation) {
    try {
      ExecuteResponse response = operation.getResponse().unpack(ExecuteResponse.class);
      ExecuteResponse inlined = response.toBuilder().setResult(inliner.inline(response.getResult(),
          request.getInlineStdout(), request.getInlineStderr(), request.getInlineOutputFilesList())).build();
      return operation.toBuilder().setResponse(Any.pack(inlined)).build();
    } catch (IOException e) {
      return operation;
    }
  }

  @Override
  public void onError(Throwable t) {
    client.onError(t);
  }

  @Override
  public void onCompleted() {
    client.onCompleted();
  }
}
