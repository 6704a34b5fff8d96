package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.ExecuteOperationMetadata;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.bazel.remote.execution.v2.Platform;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import build.rex.scheduler.cluster.SchedulerPeers;
import build.rex.storage.BlobStore;
import build.rex.storage.Digests;
import build.rex.storage.InputTreeValidator;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.MerkleTree;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.ActionKey;
import build.rex.storage.service.Requests;
import build.rex.storage.service.ResultInliner;
import build.rex.storage.service.Statuses;
import com.google.longrunning.Operation;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.Durations;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The REAPI Execution service: checks the action and its inputs, answers from the Action Cache
 * when it can, and otherwise queues the action (or joins an identical one in flight) and streams
 * its Operation until it completes.
 */
public final class ExecutionService extends ExecutionGrpc.ExecutionImplBase {
  /** Input trees up to this size travel with the assignment, saving the worker a read per level. */
  static final long INLINE_TREE_BYTES = 256 << 10;
  private final BlobStore cas;
  private final ActionCache actionCache;
  private final Dispatcher dispatcher;
  private final Dispatcher.ExecutionSettings settings;
  private final ResultInliner inliner;
  private final SchedulerPeers peers;

  public ExecutionService(BlobStore cas, ActionCache actionCache, Dispatcher dispatcher,
      Dispatcher.ExecutionSettings settings, SchedulerPeers peers) {
    this.peers = peers;
    this.cas = cas;
    this.actionCache = actionCache;
    this.dispatcher = dispatcher;
    this.settings = settings;
    this.inliner = new ResultInliner(cas);
  }

  @Override
  public void execute(ExecuteRequest request, StreamObserver<Operation> client) {
    StreamObserver<Operation> response = InliningObserver.wanted(request)
        ? new InliningObserver(client, request, inliner) : client;
    try {
      Requests.checkCommon(request.getInstanceName(), request.getDigestFunction());
      Requests.checkDigest("action_digest", request.getActionDigest());
      ActionKey key = new ActionKey(request.getInstanceName(), request.getActionDigest());
      Action action = loadAction(request.getActionDigest());
      MerkleTree inputs = MerkleTree.load(cas, action.getInputRootDigest());
      Command command = loadAndCheckInputs(action, inputs);
      if (action.hasTimeout() && Durations.compare(action.getTimeout(), settings.maxTimeout()) > 0) {
        throw new InvalidArgumentException("timeout " + Durations.toString(action.getTimeout())
            + " is above this server's maximum of " + Durations.toString(settings.maxTimeout()));
      }
      Platform platform = action.hasPlatform() ? action.getPlatform() : command.getPlatform();
      dispatcher.checkPlatform(platform);
      if (!request.getSkipCacheLookup()) {
        Optional<ActionResult> cached = actionCache.get(key);
        if (cached.isPresent()) {
          response.onNext(cachedOperation(key, cached.get()));
          response.onCompleted();
          return;
        }
      }
      dispatcher.submit(key, action, command, platform, request.getExecutionPolicy().getPriority(),
          inputs.directoriesUpTo(INLINE_TREE_BYTES)).watch(response);
    } catch (MissingInputsException e) {
      response.onError(Statuses.exception(Statuses.missingBlobs(e.missing, e.getMessage())));
    } catch (Dispatcher.UnsatisfiableException e) {
      response.onError(Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException());
    } catch (InvalidProtocolBufferException e) {
      response.onError(Status.INVALID_ARGUMENT.withDescription("the Action or Command is not a valid message: "
          + e.getMessage()).asRuntimeException());
    } catch (InvalidArgumentException | IOException e) {
      response.onError(Statuses.exception(e));
    }
  }

  /** Inputs the CAS lacks, reported together as FAILED_PRECONDITION with MISSING violations. */
  private static final class MissingInputsException extends Exception {
    final Set<Digest> missing;

    MissingInputsException(Set<Digest> missing) {
      super(missing.size() + " input blob(s) of the action are not in the CAS; upload them and retry");
      this.missing = missing;
    }
  }

  private Action loadAction(Digest actionDigest) throws IOException, InvalidArgumentException, MissingInputsException {
    Map<Digest, ByteString> found = cas.getBatch(List.of(actionDigest));
    if (!found.containsKey(actionDigest)) {
      throw new MissingInputsException(Set.of(actionDigest));
    }
    Action action = Action.parseFrom(found.get(actionDigest));
    Requests.checkDigest("Action.command_digest", action.getCommandDigest());
    Requests.checkDigest("Action.input_root_digest", action.getInputRootDigest());
    return action;
  }

  /** Loads the Command and checks that it and every input are present and safe. */
  private Command loadAndCheckInputs(Action action, MerkleTree inputs)
      throws IOException, InvalidArgumentException, MissingInputsException {
    Set<Digest> missing = new LinkedHashSet<>();
    ByteString command = cas.getBatch(List.of(action.getCommandDigest())).get(action.getCommandDigest());
    if (command == null) {
      missing.add(action.getCommandDigest());
    }
    missing.addAll(inputs.missingDirectories());
    missing.addAll(cas.findMissing(inputs.fileDigests()));
    if (!missing.isEmpty()) {
      throw new MissingInputsException(missing);
    }
    InputTreeValidator.validate(inputs);
    Command parsed = Command.parseFrom(command);
    InputTreeValidator.validate(parsed);
    return parsed;
  }

  private static Operation cachedOperation(ActionKey key, ActionResult result) {
    return Operation.newBuilder()
        .setName("operations/cached-" + UUID.randomUUID())
        .setMetadata(Any.pack(ExecuteOperationMetadata.newBuilder()
            .setStage(ExecutionStage.Value.COMPLETED)
            .setActionDigest(key.actionDigest())
            .setDigestFunction(DigestFunction.Value.SHA256)
            .build()))
        .setDone(true)
        .setResponse(Any.pack(ExecuteResponse.newBuilder().setResult(result).setCachedResult(true).build()))
        .build();
  }

  @Override
  public void waitExecution(WaitExecutionRequest request, StreamObserver<Operation> response) {
    Job job = dispatcher.find(request.getName());
    java.util.Optional<io.grpc.Channel> owner = job == null ? peers.ownerOf(request.getName()) : java.util.Optional.empty();
    if (owner.isPresent()) {
      forwardWait(owner.get(), request, response);
      return;
    }
    if (job == null) {
      response.onError(Status.NOT_FOUND.withDescription("operation '" + request.getName()
          + "' is not known here (finished long ago, or lost); call Execute again").asRuntimeException());
      return;
    }
    job.watch(response);
  }

  /**
   * Follows an operation held by another scheduler. The call runs in this call's context, so a
   * client that goes away cancels it; an owner that cannot be reached is reported as NOT_FOUND,
   * which tells the client to execute again.
   */
  private static void forwardWait(io.grpc.Channel owner, WaitExecutionRequest request, StreamObserver<Operation> response) {
    ExecutionGrpc.newStub(owner).waitExecution(request, new StreamObserver<>() {
      @Override
      public void onNext(Operation operation) {
        response.onNext(operation);
      }

      @Override
      public void onError(Throwable t) {
        Status status = Status.fromThrowable(t);
        response.onError(status.getCode() == Status.Code.UNAVAILABLE
            ? Status.NOT_FOUND.withDescription("operation '" + request.getName() + "' was held by a scheduler that"
                + " is gone; call Execute again").asRuntimeException()
            : t);
      }

      @Override
      public void onCompleted() {
        response.onCompleted();
      }
    });
  }
}
