package build.rex.scheduler.execution;

import com.google.longrunning.CancelOperationRequest;
import com.google.longrunning.GetOperationRequest;
import com.google.longrunning.ListOperationsRequest;
import com.google.longrunning.ListOperationsResponse;
import com.google.longrunning.Operation;
import com.google.longrunning.OperationsGrpc;
import com.google.protobuf.Empty;
import build.rex.scheduler.cluster.SchedulerPeers;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/** google.longrunning.Operations over the dispatcher's jobs: get, list and cancel. */
public final class OperationsService extends OperationsGrpc.OperationsImplBase {
  private final Dispatcher dispatcher;
  private final SchedulerPeers peers;

  public OperationsService(Dispatcher dispatcher, SchedulerPeers peers) {
    this.dispatcher = dispatcher;
    this.peers = peers;
  }

  @Override
  public void getOperation(GetOperationRequest request, StreamObserver<Operation> response) {
    Job job = dispatcher.find(request.getName());
    if (job == null) {
      var owner = OperationName.parse(request.getName()).flatMap(name -> peers.channelTo(name.owner()));
      if (owner.isPresent()) {
        try {
          response.onNext(OperationsGrpc.newBlockingStub(owner.get())
              .withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS).getOperation(request));
          response.onCompleted();
        } catch (io.grpc.StatusRuntimeException e) {
          response.onError(e.getStatus().getCode() == Status.Code.UNAVAILABLE ? notFound(request.getName()) : e);
        }
        return;
      }
      response.onError(notFound(request.getName()));
      return;
    }
    response.onNext(job.toOperation());
    response.onCompleted();
  }

  @Override
  public void listOperations(ListOperationsRequest request, StreamObserver<ListOperationsResponse> response) {
    ListOperationsResponse.Builder list = ListOperationsResponse.newBuilder();
    dispatcher.list().forEach(job -> list.addOperations(job.toOperation()));
    response.onNext(list.build());
    response.onCompleted();
  }

  @Override
  public void cancelOperation(CancelOperationRequest request, StreamObserver<Empty> response) {
    if (dispatcher.find(request.getName()) == null) {
      response.onError(notFound(request.getName()));
      return;
    }
    dispatcher.cancel(request.getName());
    response.onNext(Empty.getDefaultInstance());
    response.onCompleted();
  }

  private static RuntimeException notFound(String name) {
    return Status.NOT_FOUND.withDescription("operation '" + name + "' is not known here").asRuntimeException();
  }
}
