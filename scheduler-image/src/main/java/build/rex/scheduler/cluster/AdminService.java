package build.rex.scheduler.cluster;

import build.rex.scheduler.execution.WorkerRegistry;
import build.rex.v1.AdminServiceGrpc;
import build.rex.v1.DrainWorkerRequest;
import build.rex.v1.ListWorkersRequest;
import build.rex.v1.ListWorkersResponse;
import build.rex.v1.WorkerInfo;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/** Lists workers and drains them: what the operator calls before it removes a worker. */
public final class AdminService extends AdminServiceGrpc.AdminServiceImplBase {
  private final WorkerRegistry registry;

  public AdminService(WorkerRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void listWorkers(ListWorkersRequest request, StreamObserver<ListWorkersResponse> response) {
    response.onNext(ListWorkersResponse.newBuilder().addAllWorkers(registry.list()).build());
    response.onCompleted();
  }

  @Override
  public void drainWorker(DrainWorkerRequest request, StreamObserver<WorkerInfo> response) {
    registry.drain(request.getWorkerId(), request.getUndo()).ifPresentOrElse(info -> {
      response.onNext(info);
      response.onCompleted();
    }, () -> response.onError(Status.NOT_FOUND.withDescription("no worker '" + request.getWorkerId()
        + "' is connected to this scheduler").asRuntimeException()));
  }
}
