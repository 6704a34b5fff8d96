package build.rex.server;

import build.bazel.remote.execution.v2.RequestMetadata;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.protobuf.ProtoUtils;

/**
 * The REAPI's RequestMetadata header ({@code build.bazel.remote.execution.v2.requestmetadata-bin}),
 * which Bazel sends on every call: which tool, which invocation, which target and action. Read
 * once per call into the call's context; a header that does not parse counts as absent.
 */
public final class RequestMetadatas {
  public static final Metadata.Key<RequestMetadata> HEADER = Metadata.Key.of(
      "build.bazel.remote.execution.v2.requestmetadata-bin", ProtoUtils.metadataMarshaller(RequestMetadata.getDefaultInstance()));
  private static final Context.Key<RequestMetadata> KEY = Context.key("rex-request-metadata");

  private RequestMetadatas() {}

  /** The calling client's RequestMetadata; the empty one when it sent none. */
  public static RequestMetadata current() {
    RequestMetadata metadata = KEY.get();
    return metadata == null ? RequestMetadata.getDefaultInstance() : metadata;
  }

  /** Puts the header into the call's context; installed on every gRPC port. */
  public static final class Interceptor implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      RequestMetadata metadata;
      try {
        metadata = headers.get(HEADER);
      } catch (RuntimeException unparseable) {
        metadata = null;
      }
      if (metadata == null) {
        return next.startCall(call, headers);
      }
      return Contexts.interceptCall(Context.current().withValue(KEY, metadata), call, headers, next);
    }
  }
}
