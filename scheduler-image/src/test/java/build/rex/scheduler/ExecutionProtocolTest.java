package build.rex.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionCacheGrpc;
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
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.Platform;
import build.bazel.remote.execution.v2.SymlinkNode;
import build.bazel.remote.execution.v2.WaitExecutionRequest;
import build.rex.storage.Digests;
import com.google.longrunning.CancelOperationRequest;
import com.google.longrunning.Operation;
import com.google.longrunning.OperationsGrpc;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.Timestamps;
import com.google.rpc.Code;
import com.google.rpc.PreconditionFailure;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Execute, WaitExecution and Operations through a scheduler and a worker with one executor. */
class ExecutionProtocolTest {
  @TempDir Path dataDir;
  @TempDir Path scratch;
  private LocalStack stack;

  @BeforeEach
  void start() throws Exception {
    stack = new LocalStack(dataDir, 64 << 20, 1, 1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (stack.scheduler.registry().executors() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals(1, stack.scheduler.registry().executors(), "the worker connected");
  }

  @AfterEach
  void stop() throws Exception {
    stack.close();
  }

  private ReapiClient client() {
    return new ReapiClient(stack.channel);
  }

  private Digest upload(Message message) {
    return client().upload(message);
  }

  private Digest upload(ByteString blob) {
    return client().upload(blob);
  }

  private Action shellAction(String script, String... outputs) {
    return client().shellAction(script, outputs);
  }

  private Iterator<Operation> execute(Action action, int priority, boolean skipCache) {
    return client().execute(action, priority, skipCache);
  }

  private static Operation last(Iterator<Operation> stream) {
    return ReapiClient.last(stream);
  }

  private static ExecuteResponse response(Operation operation) throws Exception {
    return ReapiClient.response(operation);
  }

  private ByteString blob(Digest digest) throws Exception {
    return new build.rex.storage.remote.GrpcBlobStore(stack.channel, "scheduler").get(digest);
  }

  @Test
  void runsAnActionAndCachesItsResult() throws Exception {
    Action action = shellAction("tr a-z A-Z < in.txt > out/upper.txt && echo done", "out/upper.txt");
    ExecuteResponse first = response(last(execute(action, 0, false)));
    assertEquals(0, first.getStatus().getCode(), first.getStatus().getMessage());
    assertEquals(0, first.getResult().getExitCode());
    assertFalse(first.getCachedResult());
    assertEquals("INPUT\n", blob(first.getResult().getOutputFiles(0).getDigest()).toStringUtf8());
    assertEquals("done\n", blob(first.getResult().getStdoutDigest()).toStringUtf8());
    var metadata = first.getResult().getExecutionMetadata();
    assertEquals("worker-0", metadata.getWorker());
    assertTrue(Timestamps.compare(metadata.getExecutionStartTimestamp(), metadata.getExecutionCompletedTimestamp()) <= 0);

    ExecuteResponse second = response(last(execute(action, 0, false)));
    assertTrue(second.getCachedResult(), "served from the Action Cache");
    assertEquals(first.getResult(), second.getResult());

    Iterator<Operation> inlined = ExecutionGrpc.newBlockingStub(stack.channel).execute(ExecuteRequest.newBuilder()
        .setActionDigest(Digests.of(action)).setSkipCacheLookup(true).setInlineStdout(true)
        .addInlineOutputFiles("out/upper.txt").build());
    ExecuteResponse third = response(last(inlined));
    assertEquals("done\n", third.getResult().getStdoutRaw().toStringUtf8(), "stdout inlined on request");
    assertEquals("INPUT\n", third.getResult().getOutputFiles(0).getContents().toStringUtf8());
  }

  /** Action Cache lookups the worker has answered so far, hits and misses alike, from its metrics. */
  private double workerCacheLookups() throws Exception {
    String series = "rex_grpc_server_requests_total{code=\"%s\",method=\"build.bazel.remote.execution.v2.ActionCache/GetActionResult\"}";
    return AdminMetrics.value(stack.worker.adminPort(), series.formatted("OK"))
        + AdminMetrics.value(stack.worker.adminPort(), series.formatted("NOT_FOUND"));
  }

  private double trustedMisses() throws Exception {
    return AdminMetrics.value(stack.scheduler.adminPort(), "rex_action_cache_recent_misses_trusted_total");
  }

  @Test
  void anExecuteJustAfterItsGetActionResultMissedDoesNotLookAgain() throws Exception {
    Action action = shellAction("echo looked up once > out/a", "out/a");
    double lookupsBefore = workerCacheLookups();
    StatusRuntimeException miss = assertThrows(StatusRuntimeException.class, () -> ActionCacheGrpc
        .newBlockingStub(stack.channel).getActionResult(GetActionResultRequest.newBuilder()
            .setActionDigest(Digests.of(action)).build()));
    assertEquals(Status.Code.NOT_FOUND, miss.getStatus().getCode());

    ExecuteResponse ran = response(last(execute(action, 0, false)));
    assertEquals(0, ran.getResult().getExitCode());
    assertFalse(ran.getCachedResult());
    assertEquals(1, trustedMisses(), "Execute took the miss of the GetActionResult just before as its own");

    Action unasked = shellAction("echo never looked up > out/b", "out/b");
    assertFalse(response(last(execute(unasked, 0, false))).getCachedResult());
    assertEquals(1, trustedMisses(), "an Execute with no lookup before it asks the workers");
    // A call is counted once the worker's side of it has closed, which may come just after the scheduler has its answer.
    Await.holds("the GetActionResult and the second Execute's lookup reached the worker",
        () -> workerCacheLookups() >= lookupsBefore + 2);
    assertEquals(lookupsBefore + 2, workerCacheLookups(), "the first Execute asked the worker nothing");

    ExecuteResponse again = response(last(execute(action, 0, false)));
    assertTrue(again.getCachedResult(), "the result stored since took the miss back");
    assertEquals(ran.getResult(), again.getResult());
  }

  @Test
  void failedActionsAreReturnedButNeverCached() throws Exception {
    Action action = shellAction("echo broken >&2; exit 3");
    ExecuteResponse response = response(last(execute(action, 0, false)));
    assertEquals(3, response.getResult().getExitCode());
    assertEquals("broken\n", blob(response.getResult().getStderrDigest()).toStringUtf8());
    StatusRuntimeException miss = assertThrows(StatusRuntimeException.class, () -> ActionCacheGrpc
        .newBlockingStub(stack.channel).getActionResult(GetActionResultRequest.newBuilder()
            .setActionDigest(Digests.of(action)).build()));
    assertEquals(Status.Code.NOT_FOUND, miss.getStatus().getCode());
  }

  @Test
  void aTimeoutIsDeadlineExceededAndKeepsPartialOutput() throws Exception {
    Action action = shellAction("echo started; sleep 30").toBuilder().setTimeout(Durations.fromMillis(500)).build();
    ExecuteResponse response = response(last(execute(action, 0, false)));
    assertEquals(Code.DEADLINE_EXCEEDED_VALUE, response.getStatus().getCode());
    assertEquals("started\n", blob(response.getResult().getStdoutDigest()).toStringUtf8());
  }

  @Test
  void missingInputsAreFailedPreconditionNamingEachBlob() throws Exception {
    Digest absent = Digests.of(ByteString.copyFromUtf8("never uploaded"));
    Command command = Command.newBuilder().addArguments("true").build();
    Directory root = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("x").setDigest(absent)).build();
    Action action = Action.newBuilder().setCommandDigest(upload(command)).setInputRootDigest(upload(root)).build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> last(execute(action, 0, false)));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    PreconditionFailure failure = StatusProto.fromThrowable(e).getDetailsList().stream()
        .filter(d -> d.is(PreconditionFailure.class)).findFirst().orElseThrow()
        .unpack(PreconditionFailure.class);
    assertEquals("MISSING", failure.getViolations(0).getType());
    assertEquals("blobs/" + Digests.toString(absent), failure.getViolations(0).getSubject());
  }

  @Test
  void platformsNoExecutorCanServeAreRejected() {
    Action unknown = shellAction("true").toBuilder().setPlatform(Platform.newBuilder()
        .addProperties(Platform.Property.newBuilder().setName("gpu").setValue("a100"))).build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> last(execute(unknown, 0, false)));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("[gpu]"), e.getStatus().getDescription());

    Action tooBig = shellAction("true").toBuilder().setPlatform(Platform.newBuilder()
        .addProperties(Platform.Property.newBuilder().setName("cpu").setValue("64"))).build();
    e = assertThrows(StatusRuntimeException.class, () -> last(execute(tooBig, 0, false)));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("cpu=64"), e.getStatus().getDescription());

    Action fits = shellAction("true").toBuilder().setPlatform(Platform.newBuilder()
        .addProperties(Platform.Property.newBuilder().setName("cpu").setValue("1"))
        .addProperties(Platform.Property.newBuilder().setName("pool").setValue("default"))).build();
    assertEquals(0, assertDoesNotThrow(() -> response(last(execute(fits, 0, false)))).getResult().getExitCode());
  }

  private static <T> T assertDoesNotThrow(org.junit.jupiter.api.function.ThrowingSupplier<T> supplier) {
    return org.junit.jupiter.api.Assertions.assertDoesNotThrow(supplier);
  }

  @Test
  void pathsThatLeaveTheExecRootAreRejectedBeforeAnythingRuns() {
    Digest file = upload(ByteString.copyFromUtf8("x"));
    List<Directory> roots = List.of(
        Directory.newBuilder().addFiles(FileNode.newBuilder().setName("../escape").setDigest(file)).build(),
        Directory.newBuilder().addFiles(FileNode.newBuilder().setName("a/b").setDigest(file)).build(),
        Directory.newBuilder().addFiles(FileNode.newBuilder().setName("same").setDigest(file))
            .addSymlinks(SymlinkNode.newBuilder().setName("same").setTarget("x")).build(),
        Directory.newBuilder().addSymlinks(SymlinkNode.newBuilder().setName("l").setTarget("/etc/passwd")).build(),
        Directory.newBuilder().addSymlinks(SymlinkNode.newBuilder().setName("l").setTarget("../../up")).build());
    Command command = Command.newBuilder().addArguments("touch").addArguments("/tmp/should-not-run").build();
    for (Directory root : roots) {
      Action action = Action.newBuilder().setCommandDigest(upload(command)).setInputRootDigest(upload(root)).build();
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> last(execute(action, 0, true)),
          root.toString());
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), root.toString());
    }
    Command escapingOutput = Command.newBuilder().addArguments("true").addOutputPaths("../outside").build();
    Action action = Action.newBuilder().setCommandDigest(upload(escapingOutput))
        .setInputRootDigest(upload(Directory.getDefaultInstance())).build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> last(execute(action, 0, true)));
    assertTrue(e.getStatus().getDescription().contains("leaves the input root"), e.getStatus().getDescription());
  }

  @Test
  void outputsBehindSymlinksThatLeaveTheExecRootAreRefused() throws Exception {
    Action action = shellAction("rm -rf out && ln -s /etc out", "out/passwd");
    ExecuteResponse response = response(last(execute(action, 0, true)));
    assertEquals(Code.INVALID_ARGUMENT_VALUE, response.getStatus().getCode(), response.toString());
    assertTrue(response.getStatus().getMessage().contains("leaves the exec root"), response.getStatus().getMessage());
    assertEquals(0, response.getResult().getOutputFilesCount(), "nothing outside the exec root was read");
  }

  @Test
  void timeoutsAboveTheMaximumAreInvalid() {
    Action action = shellAction("true").toBuilder().setTimeout(Durations.fromSeconds(601)).build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> last(execute(action, 0, false)));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("maximum"));
  }

  @Test
  void identicalActionsInFlightShareOneOperationUnlessDoNotCache() throws Exception {
    Action slow = shellAction("sleep 1; echo merged");
    Iterator<Operation> first = execute(slow, 0, true);
    Iterator<Operation> second = execute(slow, 0, true);
    String firstName = first.next().getName();
    String secondName = second.next().getName();
    assertEquals(firstName, secondName, "merged into one operation");
    assertEquals(response(last(first)).getResult(), response(last(second)).getResult());

    Action uncached = slow.toBuilder().setDoNotCache(true).build();
    Iterator<Operation> third = execute(uncached, 0, true);
    Iterator<Operation> fourth = execute(uncached, 0, true);
    assertNotEquals(third.next().getName(), fourth.next().getName(), "do_not_cache actions are not merged");
    last(third);
    last(fourth);
  }

  @Test
  void higherPriorityActionsRunFirst() throws Exception {
    Path markers = Files.createDirectories(scratch.resolve("release"));
    Files.setPosixFilePermissions(markers, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    Path release = markers.resolve("go");
    Iterator<Operation> blocker = execute(shellAction("while [ ! -e " + release + " ]; do sleep 0.02; done"), 0, true);
    blocker.next();
    Await.until("the blocker holds the only executor", () -> stack.worker.busyExecutors() == 1);
    Iterator<Operation> low = execute(shellAction("echo low"), 10, true);
    low.next();
    Iterator<Operation> high = execute(shellAction("echo high"), -10, true);
    high.next();
    Await.until("both wait in the queue", () -> stack.scheduler.dispatcher().queued() == 2);
    Files.createFile(release);
    var lowStart = response(last(low)).getResult().getExecutionMetadata().getExecutionStartTimestamp();
    var highStart = response(last(high)).getResult().getExecutionMetadata().getExecutionStartTimestamp();
    last(blocker);
    assertTrue(Timestamps.compare(highStart, lowStart) < 0, "priority -10 ran before priority 10");
  }

  @Test
  void waitExecutionReattachesAndUnknownOperationsAreNotFound() throws Exception {
    Iterator<Operation> running = execute(shellAction("sleep 1; echo waited"), 0, true);
    String name = running.next().getName();
    Iterator<Operation> waiting = ExecutionGrpc.newBlockingStub(stack.channel)
        .waitExecution(WaitExecutionRequest.newBuilder().setName(name).build());
    ExecuteResponse response = response(last(waiting));
    assertEquals("waited\n", blob(response.getResult().getStdoutDigest()).toStringUtf8());
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> last(ExecutionGrpc
        .newBlockingStub(stack.channel).waitExecution(WaitExecutionRequest.newBuilder().setName("operations/nope").build())));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
  }

  @Test
  void anOperationWhoseSchedulerIsGoneIsCarriedOnHere() throws Exception {
    Action action = shellAction("echo carried on");
    Digest actionDigest = upload(action);
    // A name another scheduler (now gone, never part of this cluster's discovery) gave out.
    String orphaned = "operations/10.9.9.9:8981/" + actionDigest.getHash() + "-" + actionDigest.getSizeBytes() + "/lost";
    Iterator<Operation> waiting = ExecutionGrpc.newBlockingStub(stack.channel)
        .waitExecution(WaitExecutionRequest.newBuilder().setName(orphaned).build());
    Operation first = waiting.next();
    assertNotEquals(orphaned, first.getName(), "carried on under a name of this scheduler's");
    assertTrue(first.getName().startsWith("operations/" + stack.scheduler.advertisedAddress() + "/"), first.getName());
    ExecuteResponse response = response(last(waiting));
    assertEquals(0, response.getStatus().getCode(), response.getStatus().getMessage());
    assertEquals("carried on\n", blob(response.getResult().getStdoutDigest()).toStringUtf8());
    // Asked again, the old name leads to the same operation; its result is cached now.
    ExecuteResponse again = response(last(ExecutionGrpc.newBlockingStub(stack.channel)
        .waitExecution(WaitExecutionRequest.newBuilder().setName(orphaned).build())));
    assertEquals(response.getResult(), again.getResult());

    // An operation whose action is no longer in the CAS cannot be carried on: NOT_FOUND says execute again.
    String unknownAction = "operations/10.9.9.9:8981/" + "ab".repeat(32) + "-12/lost";
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> last(ExecutionGrpc
        .newBlockingStub(stack.channel).waitExecution(WaitExecutionRequest.newBuilder().setName(unknownAction).build())));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("call Execute again"), e.getStatus().getDescription());
  }

  @Test
  void aStoppingSchedulerTellsItsClientsUnavailableAtOnce() throws Exception {
    Iterator<Operation> running = execute(shellAction("sleep 30"), 0, true);
    running.next();
    Thread stopper = new Thread(() -> {
      try {
        stack.scheduler.close();
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    stopper.start();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> last(running));
    // Not CANCELLED, which the drain's end would give: UNAVAILABLE makes Bazel follow the operation elsewhere.
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.getStatus().toString());
    stopper.join();
  }

  @Test
  void cancelKillsTheWholeProcessTree() throws Exception {
    // PIDs inside the action's PID namespace mean nothing outside it, so the test watches a
    // background child's heartbeat file instead: it must stop growing once cancelled.
    Path markers = Files.createDirectories(scratch.resolve("markers"));
    Files.setPosixFilePermissions(markers, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    Path beat = markers.resolve("beat");
    Iterator<Operation> running = execute(shellAction(
        "(while :; do echo x >> " + beat + "; sleep 0.05; done) & wait"), 0, true);
    String name = running.next().getName();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while ((!Files.exists(beat) || Files.size(beat) < 10) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(Files.size(beat) >= 10, "the background child runs");
    assertTrue(processesMentioning(beat.toString()) >= 2, "the action's shell and its child are seen");

    OperationsGrpc.newBlockingStub(stack.channel).cancelOperation(CancelOperationRequest.newBuilder().setName(name).build());
    assertEquals(Code.CANCELLED_VALUE, response(last(running)).getStatus().getCode());
    // Every process of the action carries the script (and so the marker's path) in its command line.
    Await.until("no process of the action is left", () -> processesMentioning(beat.toString()) == 0);
  }

  private static long processesMentioning(String text) {
    try (var procs = Files.list(Path.of("/proc"))) {
      return procs.filter(p -> p.getFileName().toString().matches("\\d+")).filter(p -> {
        try {
          return new String(Files.readAllBytes(p.resolve("cmdline"))).contains(text);
        } catch (java.io.IOException e) {
          return false; // gone meanwhile
        }
      }).count();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void anActionLostWithItsWorkerRunsOnAnotherOne() throws Exception {
    try (LocalStack two = new LocalStack(scratch.resolve("two"), 64 << 20, 2, 1)) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (two.scheduler.registry().executors() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      LocalStack single = stack;
      stack = two;
      try {
        Iterator<Operation> running = execute(shellAction("sleep 2; echo survived"), 0, true);
        running.next();
        int busy = -1;
        while (busy < 0 && System.nanoTime() < deadline) {
          for (int i = 0; i < 2; i++) {
            if (two.workers.get(i).busyExecutors() > 0) {
              busy = i;
            }
          }
          Thread.sleep(20);
        }
        // The worker leaves the cluster mid-action (its storage too: every blob has a copy on the other one).
        two.workers.get(busy).stopExecuting();
        ExecuteResponse response = response(last(running));
        assertEquals(0, response.getStatus().getCode(), response.getStatus().getMessage());
        assertEquals("worker-" + (1 - busy), response.getResult().getExecutionMetadata().getWorker());
        assertEquals("survived\n", blob(response.getResult().getStdoutDigest()).toStringUtf8());
      } finally {
        stack = single;
      }
    }
  }
}
