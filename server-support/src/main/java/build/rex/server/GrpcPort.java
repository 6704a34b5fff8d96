package build.rex.server;

import build.rex.config.Endpoint;

import io.grpc.BindableService;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import java.util.List;

/** One gRPC port of a server: where it listens, how callers are let in, and what it serves. */
public record GrpcPort(Endpoint endpoint, ServerCredentials credentials, List<ServerServiceDefinition> services) {
  /** The services, each behind the interceptors (the first one listed sees a call first). */
  public static GrpcPort of(Endpoint endpoint, ServerCredentials credentials, List<BindableService> services,
      ServerInterceptor... interceptors) {
    List<ServerInterceptor> outermostFirst = List.of(interceptors);
    return new GrpcPort(endpoint, credentials, services.stream()
        .map(service -> ServerInterceptors.interceptForward(service, outermostFirst))
        .toList());
  }
}
