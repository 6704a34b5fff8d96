package build.rex.scheduler;

import static org.junit.jupiter.api.Assertions.assertFalse;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.rex.storage.Digests;
import build.rex.storage.MerkleTree;
import build.rex.storage.fuzz.InputTrees;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.longrunning.Operation;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Hostile requests against a running scheduler and worker over gRPC: whatever a client sends,
 * the answer is a status the REAPI names for it (INVALID_ARGUMENT, NOT_FOUND,
 * FAILED_PRECONDITION...), never INTERNAL or UNKNOWN, which would mean an exception escaped.
 */
class ServiceFuzzTest {
  private static final Set<Status.Code> ESCAPED = Set.of(Status.Code.INTERNAL, Status.Code.UNKNOWN);
  private static final ByteString CONTENT = ByteString.copyFromUtf8("input");
  private static LocalStack stack;

  @BeforeContainer
  static void start() throws Exception {
    stack = new LocalStack(Files.createTempDirectory("rex-service-fuzz"), 64 << 20, 1, 2);
    upload(CONTENT);
  }

  @AfterContainer
  static void stop() throws Exception {
    stack.close();
  }

  private static Digest upload(ByteString blob) {
    ContentAddressableStorageGrpc.newBlockingStub(stack.channel).batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
        .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(blob)).setData(blob)).build());
    return Digests.of(blob);
  }

  @Provide
  Arbitrary<MerkleTree> trees() {
    return InputTrees.trees(Digests.of(CONTENT));
  }

  @Provide
  Arbitrary<String> arguments() {
    return Arbitraries.of("/bin/true", "true", "", "/bin/sh\0", "../../bin/true", "/nonexistent");
  }

  /** A hostile input tree, uploaded, then executed, then read back with GetTree. */
  @Property(tries = 400)
  void executeAndGetTreeAnswerWithAProperStatus(@ForAll("trees") MerkleTree tree, @ForAll("arguments") String argument,
      @ForAll("outputs") String output) {
    tree.directories().values().forEach(directory -> upload(directory.toByteString()));
    Command command = Command.newBuilder().addArguments(argument).addOutputPaths(output).build();
    Action action = Action.newBuilder().setCommandDigest(upload(command.toByteString()))
        .setInputRootDigest(tree.root()).setDoNotCache(true).build();
    Digest actionDigest = upload(action.toByteString());
    String outcome = outcome(() -> {
      Iterator<Operation> stream = ExecutionGrpc.newBlockingStub(stack.channel).withDeadlineAfter(60, TimeUnit.SECONDS)
          .execute(ExecuteRequest.newBuilder().setActionDigest(actionDigest).setSkipCacheLookup(true).build());
      Operation last = null;
      while (stream.hasNext()) {
        last = stream.next();
      }
      Status.Code code = Status.fromCodeValue(last.getResponse().unpack(ExecuteResponse.class).getStatus().getCode()).getCode();
      assertFalse(ESCAPED.contains(code), "Execute answered " + last.getResponse().unpack(ExecuteResponse.class).getStatus());
      return "execute " + code;
    });
    Statistics.label("execute").collect(outcome);
    outcome(() -> {
      ContentAddressableStorageGrpc.newBlockingStub(stack.channel).getTree(GetTreeRequest.newBuilder()
          .setRootDigest(tree.root()).build()).forEachRemaining(page -> { });
      return "ok";
    });
  }

  @Provide
  Arbitrary<String> outputs() {
    return Arbitraries.of("out", "a/b", "", "../x", "/abs", "x\0y");
  }

  /** Random digests and resource names sent to the read paths. */
  @Property(tries = 2_000)
  void readsAnswerWithAProperStatus(@ForAll("hashes") String hash, @ForAll long size, @ForAll("instances") String instance) {
    Digest digest = Digest.newBuilder().setHash(hash).setSizeBytes(size).build();
    Statistics.label("batch read").collect(outcome(() -> ContentAddressableStorageGrpc.newBlockingStub(stack.channel)
        .batchReadBlobs(BatchReadBlobsRequest.newBuilder().setInstanceName(instance).addDigests(digest).build())
        .getResponses(0).getStatus().getCode() == 0 ? "found" : "not found"));
    outcome(() -> {
      ByteStreamGrpc.newBlockingStub(stack.channel).read(ReadRequest.newBuilder()
          .setResourceName(instance + "/blobs/" + hash + "/" + size).build()).forEachRemaining(chunk -> { });
      return "ok";
    });
  }

  @Provide
  Arbitrary<String> hashes() {
    return Arbitraries.oneOf(Arbitraries.of(Digests.of(CONTENT).getHash(), "../../etc/passwd", ""),
        Arbitraries.strings().withChars("0123456789abcdef/.").ofLength(64), Arbitraries.strings().ofMaxLength(70));
  }

  @Provide
  Arbitrary<String> instances() {
    return Arbitraries.of("", "main", "..", "a/../b", "blobs", "/x", "x/", "uploads/1");
  }

  /** Runs a call; a status error is an outcome too, unless it says an exception escaped. */
  private static String outcome(java.util.concurrent.Callable<String> call) {
    try {
      return call.call();
    } catch (StatusRuntimeException e) {
      assertFalse(ESCAPED.contains(e.getStatus().getCode()), e.toString());
      return e.getStatus().getCode().toString();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
