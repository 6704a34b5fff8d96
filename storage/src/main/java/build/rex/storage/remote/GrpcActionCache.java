package build.rex.storage.remote;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.rex.storage.RemoteStorageException;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.ActionKey;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** An Action Cache in another rex process (a worker's durable one), over the REAPI ActionCache service. */
public final class GrpcActionCache implements ActionCache {
  private static final long DEADLINE_SECONDS = 30;
  private final Channel channel;

  public GrpcActionCache(Channel channel) {
    this.channel = channel;
  }

  private ActionCacheGrpc.ActionCacheBlockingStub stub() {
    return ActionCacheGrpc.newBlockingStub(channel).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public Optional<ActionResult> get(ActionKey key) throws IOException {
    try {
      return Optional.of(stub().getActionResult(GetActionResultRequest.newBuilder()
          .setInstanceName(key.instanceName()).setActionDigest(key.actionDigest()).build()));
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return Optional.empty();
      }
      throw new RemoteStorageException(e.getStatus());
    }
  }

  @Override
  public void put(ActionKey key, ActionResult result) throws IOException {
    try {
      stub().updateActionResult(UpdateActionResultRequest.newBuilder()
          .setInstanceName(key.instanceName()).setActionDigest(key.actionDigest()).setActionResult(result).build());
    } catch (StatusRuntimeException e) {
      throw new RemoteStorageException(e.getStatus());
    }
  }
}
