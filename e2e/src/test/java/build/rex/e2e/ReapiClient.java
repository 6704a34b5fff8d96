package build.rex.e2e;

import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import com.google.longrunning.Operation;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.Code;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Executes an action the way Bazel's remote executor does: follows the Execute stream; when it
 * breaks, follows the operation with WaitExecution (on whatever scheduler the balancer picks);
 * executes again on NOT_FOUND and on an UNAVAILABLE result; uploads again when inputs are
 * reported missing. Everything else is a failure. Each step is kept, for the test's report.
 */
final class ReapiClient {
  /** What the server may answer that Bazel retries. */
  private static final List<Status.Code> RETRIED = List.of(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED,
      Status.Code.ABORTED);

  /** Puts the action's blobs (again) into the CAS. */
  interface Uploader {
    void upload() throws Exception;
  }

  /** The outcome of one action, and how it got there. */
  record Outcome(ExecuteResponse response, List<String> steps, long millis, int retries) {}

  private ReapiClient() {}

  /** @throws AssertionError when the server answers something Bazel would not retry, or time runs out */
  static Outcome execute(Channel channel, ExecuteRequest request, Uploader uploader, long timeoutSeconds)
      throws Exception {
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    List<String> steps = new ArrayList<>();
    String name = null;
    int retries = 0;
    while (System.nanoTime() < deadline) {
      ExecutionGrpc.ExecutionBlockingStub stub = ExecutionGrpc.newBlockingStub(channel)
          .withDeadlineAfter(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      try {
        Iterator<Operation> stream;
        if (name == null) {
          steps.add(Instant.now() + " Execute");
          stream = stub.execute(request);
        } else {
          steps.add(Instant.now() + " WaitExecution " + name);
          stream = stub.waitExecution(WaitExecutionRequest.newBuilder().setName(name).build());
        }
        while (stream.hasNext()) {
          Operation operation = stream.next();
          if (!operation.getName().equals(name)) {
            steps.add(Instant.now() + " operation " + operation.getName());
          }
          name = operation.getName();
          if (operation.getDone()) {
            ExecuteResponse response = response(operation);
            if (response.getStatus().getCode() == Code.UNAVAILABLE_VALUE) {
              steps.add(Instant.now() + " result UNAVAILABLE: " + response.getStatus().getMessage());
              name = null;
              retries++;
              break;
            }
            steps.add(Instant.now() + " done, status " + response.getStatus().getCode());
            return new Outcome(response, steps, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), retries);
          }
        }
        // The stream ended without a result: follow the operation again.
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        steps.add(Instant.now() + " " + code + ": " + e.getStatus().getDescription());
        if (code == Status.Code.NOT_FOUND) {
          name = null;
        } else if (code == Status.Code.FAILED_PRECONDITION && String.valueOf(e.getStatus().getDescription()).contains("not in the CAS")) {
          uploader.upload();
          name = null;
        } else if (!RETRIED.contains(code)) {
          throw new AssertionError("the server answered " + code + ", which is not retried: " + String.join("\n  ", steps), e);
        }
      }
      retries++;
      Thread.sleep(Math.min(1_000, 50L << Math.min(retries, 5)));
    }
    throw new AssertionError("no result within " + timeoutSeconds + " s: " + String.join("\n  ", steps));
  }

  private static ExecuteResponse response(Operation operation) throws InvalidProtocolBufferException {
    return operation.getResponse().unpack(ExecuteResponse.class);
  }
}
