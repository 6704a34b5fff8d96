package build.rex.scheduler;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.ExecutionPolicy;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.RequestMetadata;
import build.rex.server.RequestMetadatas;
import build.rex.storage.Digests;
import com.google.longrunning.Operation;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.util.Iterator;
import java.util.List;

/** What the protocol tests do as a REAPI client: upload blobs, build shell actions, execute them. */
final class ReapiClient {
  private final Channel channel;

  ReapiClient(Channel channel) {
    this.channel = channel;
  }

  Digest upload(Message message) {
    return upload(message.toByteString());
  }

  Digest upload(ByteString blob) {
    ContentAddressableStorageGrpc.newBlockingStub(channel).batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
        .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(blob)).setData(blob)).build());
    return Digests.of(blob);
  }

  /** An action running {@code sh -c script} on an input root with one file, in.txt. */
  Action shellAction(String script, String... outputs) {
    Command command = Command.newBuilder().addArguments("/bin/sh").addArguments("-c").addArguments(script)
        .addEnvironmentVariables(Command.EnvironmentVariable.newBuilder().setName("PATH").setValue("/usr/bin:/bin"))
        .addAllOutputPaths(List.of(outputs)).build();
    Directory root = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("in.txt")
        .setDigest(upload(ByteString.copyFromUtf8("input\n")))).build();
    return Action.newBuilder().setCommandDigest(upload(command)).setInputRootDigest(upload(root)).build();
  }

  Iterator<Operation> execute(Action action, int priority, boolean skipCache) {
    return execute(action, priority, skipCache, RequestMetadata.getDefaultInstance());
  }

  /** Executes with Bazel's RequestMetadata header when {@code metadata} is not the empty one. */
  Iterator<Operation> execute(Action action, int priority, boolean skipCache, RequestMetadata metadata) {
    var stub = ExecutionGrpc.newBlockingStub(channel);
    if (!metadata.equals(RequestMetadata.getDefaultInstance())) {
      Metadata headers = new Metadata();
      headers.put(RequestMetadatas.HEADER, metadata);
      stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }
    return stub.execute(ExecuteRequest.newBuilder().setActionDigest(upload(action)).setSkipCacheLookup(skipCache)
        .setExecutionPolicy(ExecutionPolicy.newBuilder().setPriority(priority)).build());
  }

  static Operation last(Iterator<Operation> stream) {
    Operation last = null;
    while (stream.hasNext()) {
      last = stream.next();
    }
    return last;
  }

  static ExecuteResponse response(Operation operation) throws Exception {
    assertTrue(operation.getDone());
    assertFalse(operation.hasError(), "errors go into ExecuteResponse.status, never Operation.error");
    return operation.getResponse().unpack(ExecuteResponse.class);
  }
}
