package build.rex.scheduler;

import build.bazel.remote.execution.v2.ActionCacheUpdateCapabilities;
import build.bazel.remote.execution.v2.CacheCapabilities;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.ExecutionCapabilities;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.PriorityCapabilities;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.remote.execution.v2.SymlinkAbsolutePathStrategy;
import build.bazel.semver.SemVer;
import build.rex.storage.Digests;
import build.rex.storage.InstanceNames;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.service.Statuses;
import io.grpc.stub.StreamObserver;

/**
 * Tells clients what this server really does: SHA-256 only, zstd for ByteStream and batch
 * uploads, API versions 2.0 to 2.11 (so Bazel 4 works), remote execution with any int priority
 * (lower runs sooner).
 */
final class CapabilitiesService extends CapabilitiesGrpc.CapabilitiesImplBase {
  private final ServerCapabilities capabilities;

  CapabilitiesService(long maxBatchTotalSizeBytes, boolean actionCacheUpdates) {
    PriorityCapabilities defaultPriorityOnly = PriorityCapabilities.newBuilder()
        .addPriorities(PriorityCapabilities.PriorityRange.newBuilder().setMinPriority(0).setMaxPriority(0))
        .build();
    capabilities = ServerCapabilities.newBuilder()
        .setCacheCapabilities(CacheCapabilities.newBuilder()
            .addDigestFunctions(Digests.FUNCTION)
            .setActionCacheUpdateCapabilities(ActionCacheUpdateCapabilities.newBuilder().setUpdateEnabled(actionCacheUpdates))
            .setCachePriorityCapabilities(defaultPriorityOnly)
            .setMaxBatchTotalSizeBytes(maxBatchTotalSizeBytes)
            .setSymlinkAbsolutePathStrategy(SymlinkAbsolutePathStrategy.Value.DISALLOWED)
            .addSupportedCompressors(Compressor.Value.ZSTD)
            .addSupportedBatchUpdateCompressors(Compressor.Value.ZSTD))
        .setExecutionCapabilities(ExecutionCapabilities.newBuilder()
            .setDigestFunction(Digests.FUNCTION)
            .addDigestFunctions(Digests.FUNCTION)
            .setExecEnabled(true)
            .setExecutionPriorityCapabilities(PriorityCapabilities.newBuilder()
                .addPriorities(PriorityCapabilities.PriorityRange.newBuilder()
                    .setMinPriority(Integer.MIN_VALUE).setMaxPriority(Integer.MAX_VALUE))))
        .setDeprecatedApiVersion(version(2, 0))
        .setLowApiVersion(version(2, 0))
        .setHighApiVersion(version(2, 11))
        .build();
  }

  private static SemVer version(int major, int minor) {
    return SemVer.newBuilder().setMajor(major).setMinor(minor).build();
  }

  @Override
  public void getCapabilities(GetCapabilitiesRequest request, StreamObserver<ServerCapabilities> response) {
    try {
      InstanceNames.validate(request.getInstanceName());
      response.onNext(capabilities);
      response.onCompleted();
    } catch (InvalidArgumentException e) {
      response.onError(Statuses.exception(e));
    }
  }
}
