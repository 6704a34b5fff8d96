package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.ExecuteOperationMetadata;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.RequestMetadata;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.bazel.remote.execution.v2.Platform;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import build.rex.scheduler.cluster.SchedulerPeers;
import build.rex.server.RequestMetadatas;
import build.rex.server.Tracing;
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
import io.grpc.Channel;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * The REAPI Execution service: checks the action and its inputs, answers from the Action Cache
 * when it can, and otherwise queues the action (or joins an identical one in flight) and streams
 * its Operation until it completes.
 */
public final class ExecutionService extends ExecutionGrpc.ExecutionImplBase {
  /** Input trees up to this size travel with the assignment, saving the worker a read per level. */
  static final long INLINE_TREE_BYTES = 256 << 10;
  /** Action Cache lookups, run beside the reading of the action they are for. */
  private static final java.util.concurrent.Executor CACHE_LOOKUPS =
      java.util.concurrent.Executors.newCachedThreadPool(build.rex.storage.DaemonThreads.named("cache-lookup"));
  private final BlobStore cas;
  private final ActionCache actionCache;
  private final Dispatcher dispatcher;
  private final Dispatcher.ExecutionSettings settings;
  private final ResultInliner inliner;
  private final SchedulerPeers peers;
  private final ClientStreams streams = new ClientStreams();

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
    StreamObserver<Operation> response = streams.track(InliningObserver.wanted(request)
        ? new InliningObserver(client, request, inliner) : client);
    try {
      Requests.checkCommon(request.getInstanceName(), request.getDigestFunction());
      Requests.checkDigest("action_digest", request.getActionDigest());
      ActionKey key = new ActionKey(request.getInstanceName(), request.getActionDigest());
      // The Action Cache is asked while the action is read: a hit is answered whatever the
      // reading found, a miss costs no more time than the reading.
      CompletableFuture<Optional<ActionResult>> cached = request.getSkipCacheLookup()
          ? CompletableFuture.completedFuture(Optional.empty())
          : CompletableFuture.supplyAsync(() -> lookUp(key), CACHE_LOOKUPS);
      String name = "operations/cached-" + UUID.randomUUID();
      Prepared action;
      try {
        action = prepare(key);
      } catch (Exception e) {
        if (!answeredFromCache(join(cached), key, name, response)) {
          throw e;
        }
        return;
      }
      if (answeredFromCache(join(cached), key, name, response)) {
        return;
      }
      dispatcher.submit(key, action.action, action.command, action.platform, request.getExecutionPolicy().getPriority(),
          action.inputs.directoriesUpTo(INLINE_TREE_BYTES), origin(key)).watch(response);
    } catch (MissingInputsException e) {
      response.onError(Statuses.exception(Statuses.missingBlobs(e.missing, e.getMessage())));
    } catch (Exception e) {
      response.onError(rejection(e));
    }
  }

  /**
   * This scheduler is stopping: every client following an operation here is told UNAVAILABLE,
   * and follows it on another scheduler, which carries it on.
   */
  public void endClientStreams() {
    streams.endAll("this scheduler is stopping; follow the operation with WaitExecution on another one");
  }

  /** An action read from the CAS and checked: its Command, its input tree and its platform. */
  private record Prepared(Action action, Command command, MerkleTree inputs, Platform platform) {}

  private Prepared prepare(ActionKey key) throws IOException, InvalidArgumentException, MissingInputsException,
      Dispatcher.UnsatisfiableException {
    Action action = loadAction(key.actionDigest());
    // The Command and the input root in one read; the tree's deeper levels follow, one read each.
    Map<Digest, ByteString> first = cas.getBatch(List.of(action.getCommandDigest(), action.getInputRootDigest()));
    MerkleTree inputs = MerkleTree.load(cas, action.getInputRootDigest(), first);
    Command command = checkInputs(action, first.get(action.getCommandDigest()), inputs);
    if (action.hasTimeout() && Durations.compare(action.getTimeout(), settings.maxTimeout()) > 0) {
      throw new InvalidArgumentException("timeout " + Durations.toString(action.getTimeout())
          + " is above this server's maximum of " + Durations.toString(settings.maxTimeout()));
    }
    Platform platform = action.hasPlatform() ? action.getPlatform() : command.getPlatform();
    dispatcher.checkPlatform(platform);
    return new Prepared(action, command, inputs, platform);
  }

  private Optional<ActionResult> lookUp(ActionKey key) {
    try {
      return actionCache.get(key);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The lookup's answer, or the IOException it failed with. */
  private static Optional<ActionResult> join(CompletableFuture<Optional<ActionResult>> lookup) throws IOException {
    try {
      return lookup.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw e.getCause() instanceof java.io.UncheckedIOException io ? io.getCause() : new IOException(e.getCause());
    }
  }

  private boolean answeredFromCache(Optional<ActionResult> cached, ActionKey key, String name,
      StreamObserver<Operation> response) {
    if (cached.isPresent()) {
      dispatcher.observer().completed(ExecuteResponse.newBuilder().setResult(cached.get()).setCachedResult(true).build());
      response.onNext(cachedOperation(name, key, cached.get()));
      response.onCompleted();
    }
    return cached.isPresent();
  }

  /** The status for a request that cannot be queued (missing inputs are reported apart, with details). */
  private static RuntimeException rejection(Exception e) {
    if (e instanceof Dispatcher.UnsatisfiableException) {
      return Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException();
    }
    if (e instanceof InvalidProtocolBufferException) {
      return Status.INVALID_ARGUMENT.withDescription("the Action or Command is not a valid message: "
          + e.getMessage()).asRuntimeException();
    }
    return Statuses.exception(e);
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

  /** Checks that the Command (null: absent) and every input are present and safe; parses the Command. */
  private Command checkInputs(Action action, ByteString command, MerkleTree inputs)
      throws IOException, InvalidArgumentException, MissingInputsException {
    Set<Digest> missing = new LinkedHashSet<>();
    if (command == null) {
      missing.add(action.getCommandDigest());
    }
    missing.addAll(inputs.missingDirectories());
    Set<Digest> files = inputs.fileDigests();
    if (!files.isEmpty()) {
      missing.addAll(cas.findMissing(files));
    }
    if (!missing.isEmpty()) {
      throw new MissingInputsException(missing);
    }
    InputTreeValidator.validate(inputs);
    Command parsed = Command.parseFrom(command);
    InputTreeValidator.validate(parsed);
    return parsed;
  }

  private static Operation cachedOperation(String name, ActionKey key, ActionResult result) {
    return Operation.newBuilder()
        .setName(name)
        .setMetadata(Any.pack(ExecuteOperationMetadata.newBuilder()
            .setStage(ExecutionStage.Value.COMPLETED)
            .setActionDigest(key.actionDigest())
            .setDigestFunction(DigestFunction.Value.SHA256)
            .build()))
        .setDone(true)
        .setResponse(Any.pack(ExecuteResponse.newBuilder().setResult(result).setCachedResult(true).build()))
        .build();
  }

  /**
   * Follows an operation: here when this scheduler holds it, through its owner when that is
   * another scheduler of the cluster, and otherwise (the owner died, or this is the owner,
   * restarted) by taking it over, so a client whose scheduler died finds its operation on any
   * other one.
   */
  @Override
  public void waitExecution(WaitExecutionRequest request, StreamObserver<Operation> client) {
    StreamObserver<Operation> response = streams.track(client);
    Job job = dispatcher.find(request.getName());
    if (job != null) {
      job.watch(response);
      return;
    }
    Optional<OperationName> name = OperationName.parse(request.getName());
    if (name.isEmpty()) {
      response.onError(Status.NOT_FOUND.withDescription("operation '" + request.getName()
          + "' is not known here; call Execute again").asRuntimeException());
      return;
    }
    Optional<Channel> owner = peers.channelTo(name.get().owner());
    if (owner.isPresent()) {
      forwardWait(owner.get(), request, response, () -> adopt(name.get(), response));
    } else {
      adopt(name.get(), response);
    }
  }

  /** Who asks, for the job: RequestMetadata and the trace of this call, which is told the action. */
  private static Job.Origin origin(ActionKey key) {
    RequestMetadata requester = RequestMetadatas.current();
    io.opentelemetry.context.Context call = Tracing.callContext();
    io.opentelemetry.api.trace.Span.fromContext(call).setAttribute(Tracing.ACTION_DIGEST, Digests.toString(key.actionDigest()))
        .setAttribute(Tracing.INSTANCE, key.instanceName())
        .setAttribute(Tracing.TOOL_INVOCATION_ID, requester.getToolInvocationId());
    return new Job.Origin(requester, Tracing.traceparent(call));
  }

  /** Queues the operation's action here again (after a look in the Action Cache). */
  private void adopt(OperationName name, StreamObserver<Operation> response) {
    try {
      if (answeredFromCache(actionCache.get(name.key()), name.key(), name.toString(), response)) {
        return;
      }
      Prepared action = prepare(name.key());
      dispatcher.adopt(name, action.action, action.command, action.platform,
          action.inputs.directoriesUpTo(INLINE_TREE_BYTES), origin(name.key())).watch(response);
    } catch (MissingInputsException e) {
      response.onError(Status.NOT_FOUND.withDescription("operation '" + name + "' cannot be carried on: "
          + e.getMessage() + "; call Execute again").asRuntimeException());
    } catch (Exception e) {
      response.onError(rejection(e));
    }
  }

  /**
   * Follows an operation held by another scheduler. The call runs in this call's context, so a
   * client that goes away cancels it; an owner that cannot be reached (or dies while the call
   * runs) is taken over by {@code ownerGone}.
   */
  private static void forwardWait(Channel owner, WaitExecutionRequest request, StreamObserver<Operation> response,
      Runnable ownerGone) {
    ExecutionGrpc.newStub(owner).waitExecution(request, new StreamObserver<>() {
      @Override
      public void onNext(Operation operation) {
        response.onNext(operation);
      }

      @Override
      public void onError(Throwable t) {
        if (Status.fromThrowable(t).getCode() == Status.Code.UNAVAILABLE) {
          ownerGone.run();
        } else {
          response.onError(t);
        }
      }

      @Override
      public void onCompleted() {
        response.onCompleted();
      }
    });
  }
}
