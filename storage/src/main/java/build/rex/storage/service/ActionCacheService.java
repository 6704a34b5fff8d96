package build.rex.storage.service;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.rex.storage.BlobStore;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.ActionKey;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The REAPI ActionCache service over any {@link ActionCache}. Inlines stdout, stderr and output
 * files on request (see {@link ResultInliner}).
 */
public final class ActionCacheService extends ActionCacheGrpc.ActionCacheImplBase {
  private final ActionCache cache;
  private final BlobStore cas;
  private final ResultInliner inliner;
  private final boolean updatesAllowed;
  private final Counter hits;
  private final Counter misses;

  public ActionCacheService(ActionCache cache, BlobStore cas, boolean updatesAllowed, MeterRegistry metrics) {
    this.cache = cache;
    this.cas = cas;
    this.inliner = new ResultInliner(cas);
    this.updatesAllowed = updatesAllowed;
    this.hits = Counter.builder("rex.action_cache.requests").tag("result", "hit").register(metrics);
    this.misses = Counter.builder("rex.action_cache.requests").tag("result", "miss").register(metrics);
  }

  @Override
  public void getActionResult(GetActionResultRequest request, StreamObserver<ActionResult> response) {
    try {
      Requests.checkCommon(request.getInstanceName(), request.getDigestFunction());
      Requests.checkDigest("action_digest", request.getActionDigest());
      Optional<ActionResult> result = cache.get(new ActionKey(request.getInstanceName(), request.getActionDigest()));
      if (result.isEmpty()) {
        misses.increment();
        response.onError(Status.NOT_FOUND.withDescription("no result for action "
            + request.getActionDigest().getHash() + "/" + request.getActionDigest().getSizeBytes()).asRuntimeException());
        return;
      }
      hits.increment();
      response.onNext(inline(result.get(), request));
      response.onCompleted();
    } catch (InvalidArgumentException | IOException e) {
      response.onError(Statuses.exception(e));
    }
  }

  private ActionResult inline(ActionResult result, GetActionResultRequest request) throws IOException {
    return inliner.inline(result, request.getInlineStdout(), request.getInlineStderr(), request.getInlineOutputFilesList());
  }

  @Override
  public void updateActionResult(UpdateActionResultRequest request, StreamObserver<ActionResult> response) {
    try {
      if (!updatesAllowed) {
        response.onError(Status.PERMISSION_DENIED
            .withDescription("this server does not accept Action Cache updates from clients").asRuntimeException());
        return;
      }
      Requests.checkCommon(request.getInstanceName(), request.getDigestFunction());
      Requests.checkDigest("action_digest", request.getActionDigest());
      ActionResult result = moveInlinedDataToCas(request.getActionResult());
      checkDigests(result);
      cache.put(new ActionKey(request.getInstanceName(), request.getActionDigest()), result);
      response.onNext(result);
      response.onCompleted();
    } catch (InvalidArgumentException | IOException e) {
      response.onError(Statuses.exception(e));
    }
  }

  /**
   * Inlined bytes belong in the CAS, not in the cache entry: they are stored there when the
   * client sent them without a digest, and dropped from the entry.
   */
  private ActionResult moveInlinedDataToCas(ActionResult result) throws IOException {
    ActionResult.Builder stripped = result.toBuilder().clearStdoutRaw().clearStderrRaw();
    if (!result.getStdoutRaw().isEmpty() && !result.hasStdoutDigest()) {
      stripped.setStdoutDigest(store(result.getStdoutRaw()));
    }
    if (!result.getStderrRaw().isEmpty() && !result.hasStderrDigest()) {
      stripped.setStderrDigest(store(result.getStderrRaw()));
    }
    for (OutputFile.Builder file : stripped.getOutputFilesBuilderList()) {
      file.clearContents();
    }
    return stripped.build();
  }

  private Digest store(ByteString data) throws IOException {
    Digest digest = build.rex.storage.Digests.of(data);
    cas.put(digest, data);
    return digest;
  }

  private static void checkDigests(ActionResult result) throws InvalidArgumentException {
    for (OutputFile file : result.getOutputFilesList()) {
      Requests.checkDigest("action_result.output_files[" + file.getPath() + "].digest", file.getDigest());
    }
    for (OutputDirectory directory : result.getOutputDirectoriesList()) {
      Requests.checkDigest("action_result.output_directories[" + directory.getPath() + "].tree_digest",
          directory.getTreeDigest());
    }
    if (result.hasStdoutDigest()) {
      Requests.checkDigest("action_result.stdout_digest", result.getStdoutDigest());
    }
    if (result.hasStderrDigest()) {
      Requests.checkDigest("action_result.stderr_digest", result.getStderrDigest());
    }
  }
}
