package build.rex.bench;

import build.bazel.remote.execution.v2.RequestMetadata;
import build.bazel.remote.execution.v2.ToolDetails;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.MetadataUtils;

/**
 * A REAPI server the micro benchmarks call: every call carries a RequestMetadata header, as
 * Bazel sends one (Bazel's RemoteWorker refuses calls without it).
 */
record ReapiTarget(String name, io.grpc.Channel channel, ManagedChannel managed) implements AutoCloseable {
  private static final Metadata.Key<RequestMetadata> REQUEST_METADATA = ProtoUtils.keyForProto(
      RequestMetadata.getDefaultInstance());

  static ReapiTarget on(String name, int port) {
    ManagedChannel channel = BenchCluster.channelTo(port);
    Metadata headers = new Metadata();
    headers.put(REQUEST_METADATA, RequestMetadata.newBuilder()
        .setToolDetails(ToolDetails.newBuilder().setToolName("rex-bench"))
        .setToolInvocationId("bench").setCorrelatedInvocationsId("bench").setActionId("bench").build());
    return new ReapiTarget(name, ClientInterceptors.intercept(channel,
        MetadataUtils.newAttachHeadersInterceptor(headers)), channel);
  }

  @Override
  public void close() {
    managed.shutdownNow();
  }
}
