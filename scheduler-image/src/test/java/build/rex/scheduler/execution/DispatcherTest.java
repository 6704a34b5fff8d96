package build.rex.scheduler.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.Platform;
import build.rex.scheduler.cluster.WorkerStream;
import build.rex.scheduler.execution.Job.State;
import build.rex.storage.ac.ActionKey;
import build.rex.v1.ActionFinished;
import build.rex.v1.Assignment;
import build.rex.v1.Executor;
import build.rex.v1.Heartbeat;
import build.rex.v1.Hello;
import build.rex.v1.RunningAction;
import build.rex.v1.SchedulerMessage;
import com.google.longrunning.Operation;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.Durations;
import com.google.rpc.Code;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The operation state machine: every event of {@link Dispatcher}'s table, and the messages that
 * cross on the wire, including the interleavings that once lost operations for good.
 */
class DispatcherTest {
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private Duration assignmentTimeout = Duration.ofMinutes(1);
  private long heldTreesMaxBytes = 1 << 20;
  private Dispatcher dispatcher = dispatcher(3);
  private final Map<String, List<SchedulerMessage>> sent = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, WorkerStream> streams = new java.util.HashMap<>();

  @AfterEach
  void stopTimer() {
    timer.shutdownNow();
  }

  private Dispatcher dispatcher(int maxAttempts) {
    // Watchers are sent updates synchronously, so the tests see them at once.
    return new Dispatcher(new PlatformMatcher(Set.of("cpu"), Set.of()),
        new Dispatcher.ExecutionSettings(Durations.fromSeconds(60), Durations.fromSeconds(60), maxAttempts,
            Duration.ofMinutes(1), assignmentTimeout, Duration.ofMillis(5), Duration.ofMillis(20), heldTreesMaxBytes),
        () -> "10.0.0.1:8981", timer, Runnable::run);
  }

  private static final ActionKey KEY = new ActionKey("", digest('a'));
  private static final Job.Origin NOBODY = Job.Origin.NONE;

  private static Digest digest(char c) {
    return Digest.newBuilder().setHash(String.valueOf(c).repeat(64)).setSizeBytes(1).build();
  }

  /** A worker with one executor "e", free. */
  private void connect(String worker) {
    sent.put(worker, new CopyOnWriteArrayList<>());
    WorkerStream stream = new WorkerStream(recorder(worker));
    streams.put(worker, stream);
    dispatcher.workers().connected(Hello.newBuilder().setWorkerId(worker).addExecutors(Executor.newBuilder()
        .setExecutorId("e").setProperties(Platform.getDefaultInstance())).build(), stream);
    dispatcher.executorFree(worker, "e");
  }

  /** The worker's stream ends. */
  private void leave(String worker, String why) {
    dispatcher.workers().gone(worker, streams.get(worker), why);
  }

  private Job submit(ActionKey key, boolean doNotCache) {
    return dispatcher.submit(key, Action.newBuilder().setDoNotCache(doNotCache).build(), Command.getDefaultInstance(),
        Platform.getDefaultInstance(), 0, java.util.Map.of(), NOBODY);
  }

  private List<Assignment> assignments(String worker) {
    return sent.get(worker).stream().filter(SchedulerMessage::hasAssignment).map(SchedulerMessage::getAssignment).toList();
  }

  private Assignment lastAssignment(String worker) {
    List<Assignment> all = assignments(worker);
    return all.get(all.size() - 1);
  }

  private static ActionFinished finished(Assignment assignment, ExecuteResponse response) {
    return ActionFinished.newBuilder().setOperation(assignment.getOperation()).setExecutorId(assignment.getExecutorId())
        .setAttempt(assignment.getAttempt()).setResponse(response).build();
  }

  private static ExecuteResponse exit(int code) {
    return ExecuteResponse.newBuilder().setResult(ActionResult.newBuilder().setExitCode(code)).build();
  }

  private static ExecuteResponse status(Code code) {
    return ExecuteResponse.newBuilder().setStatus(com.google.rpc.Status.newBuilder().setCode(code.getNumber())).build();
  }

  /** The worker reports the result, and the scheduler stores it. */
  private void finish(String worker, Assignment assignment, ExecuteResponse response) {
    Job job = dispatcher.finished(worker, finished(assignment, response));
    if (job != null) {
      assertEquals(State.STORING_RESULT, job.state());
      dispatcher.resultStored(job);
    }
  }

  private static ExecuteResponse response(Job job) throws InvalidProtocolBufferException {
    Operation operation = job.toOperation();
    assertTrue(operation.getDone(), operation.toString());
    return operation.getResponse().unpack(ExecuteResponse.class);
  }

  private void assertNoOrphans() {
    assertEquals(List.of(), dispatcher.rescueOrphans());
  }

  @Test
  void aJobRunsAndEveryWatcherHearsTheResult() throws Exception {
    connect("w");
    Recorder watcher = new Recorder();
    Job job = submit(KEY, false);
    job.watch(watcher);
    Assignment assignment = lastAssignment("w");
    assertEquals(State.ASSIGNED, job.state());
    dispatcher.started("w", assignment.getOperation(), assignment.getAttempt());
    assertEquals(State.RUNNING, job.state());
    assertNoOrphans();
    finish("w", assignment, exit(0));
    assertEquals(0, response(job).getStatus().getCode());
    assertTrue(watcher.completed);
    assertTrue(watcher.operations.get(watcher.operations.size() - 1).getDone());
    Recorder late = new Recorder();
    dispatcher.find(job.name()).watch(late);
    assertTrue(late.completed, "a WaitExecution after the end gets the result at once");
    assertNoOrphans();
  }

  @Test
  void identicalActionsShareAJobUnlessDoNotCache() {
    assertSame(submit(KEY, false), submit(KEY, false));
    assertNotEquals(submit(KEY, true), submit(KEY, true));
  }

  @Test
  void aFailureReportCrossingTheDepartureOfThePeerItUsedRequeuesAfterABackoff() throws Exception {
    // worker-1 runs the action; worker-0 (whose storage it fetches from) dies. The failure
    // report (UNAVAILABLE) and worker-0's departure reach the scheduler in either order; then
    // the executor's "free" follows.
    for (boolean departureFirst : new boolean[] {true, false}) {
      sent.clear();
      dispatcher = dispatcher(3);
      connect("worker-0");
      dispatcher.executorTaken("worker-0", "e"); // busy elsewhere: the job goes to worker-1
      connect("worker-1");
      Job job = submit(KEY, false);
      Assignment first = lastAssignment("worker-1");
      dispatcher.started("worker-1", first.getOperation(), first.getAttempt());
      if (departureFirst) {
        leave("worker-0", "stream broke");
      }
      assertNull(dispatcher.finished("worker-1", finished(first, status(Code.UNAVAILABLE))));
      if (!departureFirst) {
        leave("worker-0", "stream broke");
      }
      assertEquals(State.RETRY_WAIT, job.state());
      dispatcher.executorFree("worker-1", "e");
      assertNoOrphans();
      build.rex.scheduler.Await.until("the retry", () -> assignments("worker-1").size() == 2);
      Assignment second = lastAssignment("worker-1");
      assertTrue(second.getAttempt() > first.getAttempt());
      finish("worker-1", second, exit(0));
      assertEquals(0, response(job).getStatus().getCode(), "the client sees the result, not the fault");
      assertNoOrphans();
    }
  }

  @Test
  void aReportFromAnEarlierAttemptChangesNothing() throws Exception {
    connect("w1");
    Job job = submit(KEY, false);
    Assignment onW1 = lastAssignment("w1");
    leave("w1", "stream broke");
    assertEquals(State.QUEUED, job.state());
    connect("w2");
    Assignment onW2 = lastAssignment("w2");
    assertEquals(onW1.getOperation(), onW2.getOperation());
    // w1 comes back (same worker id) and reports the old attempt: stale.
    connect("w1");
    assertNull(dispatcher.finished("w1", finished(onW1, exit(7))));
    dispatcher.declined("w1", onW1.getOperation(), onW1.getAttempt());
    assertEquals(State.ASSIGNED, job.state());
    finish("w2", onW2, exit(0));
    assertEquals(0, response(job).getResult().getExitCode());
  }

  @Test
  void aDeclinedJobGoesBackWithoutCountingAnAttempt() throws Exception {
    dispatcher = dispatcher(1);
    connect("w");
    Job job = submit(KEY, false);
    Assignment first = lastAssignment("w");
    // The worker said "free" before it saw the assignment: ignored, the executor is not given twice.
    dispatcher.executorFree("w", "e");
    assertEquals(1, assignments("w").size());
    dispatcher.declined("w", first.getOperation(), first.getAttempt());
    assertEquals(State.QUEUED, job.state());
    assertEquals(0, dispatcher.workers().list().get(0).getBusyExecutors());
    dispatcher.executorFree("w", "e");
    Assignment second = lastAssignment("w");
    finish("w", second, exit(0));
    assertEquals(0, response(job).getStatus().getCode(), "one allowed attempt, not used up by the decline");
    dispatcher.declined("w", "operations/unknown", 99);
    assertEquals(0, dispatcher.queued());
  }

  @Test
  void aHeartbeatRepairsWhatTheWireLost() throws Exception {
    connect("w");
    Job job = submit(KEY, false);
    Assignment lost = lastAssignment("w");
    // An older worker's heartbeat only shows it is alive.
    dispatcher.heartbeat("w", Heartbeat.newBuilder().setLastAttempt(lost.getAttempt()).build());
    assertEquals(State.ASSIGNED, job.state());
    // A heartbeat sent before the assignment arrived says nothing about it.
    dispatcher.heartbeat("w", Heartbeat.newBuilder().setCarriesState(true).setLastAttempt(lost.getAttempt() - 1).build());
    assertEquals(State.ASSIGNED, job.state());
    // One sent after it, without it: the worker does not have it. It goes to the free executor again.
    dispatcher.heartbeat("w", Heartbeat.newBuilder().setCarriesState(true).setLastAttempt(lost.getAttempt()).addFreeExecutors("e").build());
    Assignment again = lastAssignment("w");
    assertTrue(again.getAttempt() > lost.getAttempt());
    assertEquals(State.ASSIGNED, job.state());
    // The worker runs something this scheduler does not want (an attempt it gave up on): cancelled.
    dispatcher.heartbeat("w", Heartbeat.newBuilder().setCarriesState(true).setLastAttempt(again.getAttempt())
        .addRunning(RunningAction.newBuilder().setOperation(again.getOperation()).setAttempt(again.getAttempt())
            .setExecutorId("e"))
        .addRunning(RunningAction.newBuilder().setOperation("operations/old").setAttempt(1).setExecutorId("f"))
        .build());
    List<SchedulerMessage> cancels = sent.get("w").stream().filter(SchedulerMessage::hasCancel).toList();
    assertEquals(1, cancels.size());
    assertEquals("operations/old", cancels.get(0).getCancel().getOperation());
    assertEquals(State.ASSIGNED, job.state(), "the attempt it runs stays");
    finish("w", again, exit(0));
    assertEquals(0, response(job).getStatus().getCode());
  }

  @Test
  void anAssignmentNeverStartedTimesOut() throws Exception {
    assignmentTimeout = Duration.ZERO;
    dispatcher = dispatcher(3);
    connect("w1");
    Job job = submit(KEY, false);
    connect("w2");
    Thread.sleep(1);
    dispatcher.sweep();
    Assignment onW2 = lastAssignment("w2");
    assertEquals(job.name(), onW2.getOperation());
    dispatcher.started("w2", onW2.getOperation(), onW2.getAttempt());
    dispatcher.sweep();
    assertEquals(State.RUNNING, job.state(), "a started attempt does not time out");
  }

  @Test
  void afterMaxAttemptsTheClientGetsUnavailable() throws Exception {
    for (int attempt = 0; attempt < 3; attempt++) {
      connect("w");
      if (attempt == 0) {
        submit(KEY, false);
      }
      leave("w", "killed");
    }
    Job job = dispatcher.list().get(0);
    ExecuteResponse response = response(job);
    assertEquals(Code.UNAVAILABLE_VALUE, response.getStatus().getCode());
    assertTrue(response.getStatus().getMessage().contains("3 attempts"), response.getStatus().getMessage());
    assertEquals(3, dispatcher.endings(Dispatcher.Ending.WORKER_LOST));
  }

  @Test
  void cancellingStopsTheWorkerAndIgnoresItsLateResult() throws Exception {
    connect("w");
    Job running = submit(KEY, false);
    Job queued = submit(new ActionKey("", digest('b')), false);
    Assignment assignment = lastAssignment("w");
    assertTrue(dispatcher.cancel(queued.name()));
    assertEquals(Code.CANCELLED_VALUE, response(queued).getStatus().getCode());
    assertTrue(dispatcher.cancel(running.name()));
    SchedulerMessage cancel = sent.get("w").stream().filter(SchedulerMessage::hasCancel).findFirst().orElseThrow();
    assertEquals(assignment.getAttempt(), cancel.getCancel().getAttempt());
    assertNull(dispatcher.finished("w", finished(assignment, exit(0))));
    assertEquals(Code.CANCELLED_VALUE, response(running).getStatus().getCode());
    assertFalse(dispatcher.cancel(running.name()));
    assertEquals(0, dispatcher.queued());
  }

  @Test
  void cancellingAJobWaitingToRetryOrStoringItsResultEndsItOnce() throws Exception {
    connect("w");
    Job retrying = submit(KEY, false);
    Assignment first = lastAssignment("w");
    assertNull(dispatcher.finished("w", finished(first, status(Code.UNAVAILABLE))));
    assertEquals(State.RETRY_WAIT, retrying.state());
    assertTrue(dispatcher.cancel(retrying.name()));
    // The single timer thread runs tasks in the order they fall due: once a task due after the
    // longest backoff (20 ms) has run, so has the retry, which found the job completed.
    timer.schedule(() -> { }, 25, TimeUnit.MILLISECONDS).get();
    assertEquals(Code.CANCELLED_VALUE, response(retrying).getStatus().getCode());
    assertEquals(0, dispatcher.queued());

    dispatcher.executorFree("w", "e");
    Job storing = submit(new ActionKey("", digest('c')), false);
    Job reported = dispatcher.finished("w", finished(lastAssignment("w"), exit(0)));
    assertSame(storing, reported);
    assertTrue(dispatcher.cancel(storing.name()));
    dispatcher.resultStored(storing);
    assertEquals(Code.CANCELLED_VALUE, response(storing).getStatus().getCode(), "the cancel came first");
    assertNoOrphans();
  }

  @Test
  void aBrokenClientStreamLosesOnlyItsWatcher() throws Exception {
    connect("w");
    Job job = submit(KEY, false);
    Recorder gone = new Recorder();
    job.watch(gone);
    gone.broken = true;
    Recorder staying = new Recorder();
    job.watch(staying);
    assertEquals(2, job.watcherCount());
    dispatcher.republish();
    assertEquals(1, job.watcherCount(), "the broken stream's watcher is dropped");
    assertEquals(2, staying.operations.size(), "the others hear the same state again");
    finish("w", lastAssignment("w"), exit(0));
    assertTrue(staying.completed);
    assertFalse(gone.completed);
  }

  @Test
  void anOperationOfAGoneSchedulerIsTakenOverUnderANewName() throws Exception {
    connect("w");
    OperationName old = OperationName.create(KEY, "10.0.0.2:8981");
    Job job = dispatcher.adopt(old, Action.getDefaultInstance(), Command.getDefaultInstance(),
        Platform.getDefaultInstance(), java.util.Map.of(), NOBODY);
    assertSame(job, dispatcher.find(old.toString()));
    assertSame(job, dispatcher.adopt(old, Action.getDefaultInstance(), Command.getDefaultInstance(),
        Platform.getDefaultInstance(), java.util.Map.of(), NOBODY), "a second WaitExecution finds the same job");
    assertEquals("10.0.0.1:8981", OperationName.parse(job.name()).orElseThrow().owner());
    assertEquals(KEY, OperationName.parse(job.name()).orElseThrow().key());
    assertSame(job, submit(KEY, false), "and it merges with Execute calls for the same action");
  }

  @Test
  void theWatchdogRequeuesAJobNothingWouldMoveOn() throws Exception {
    connect("w");
    Job job = submit(KEY, false);
    Assignment assignment = lastAssignment("w");
    dispatcher.started("w", assignment.getOperation(), assignment.getAttempt());
    job.attempt = null; // what a bug would do: the job belongs to no executor
    List<String> rescued = dispatcher.rescueOrphans();
    assertEquals(1, rescued.size());
    assertTrue(rescued.get(0).contains("RUNNING") && rescued.get(0).contains("history"), rescued.get(0));
    assertEquals(State.QUEUED, job.state());
    assertNoOrphans();
  }

  @Test
  void illegalTransitionsAreRefusedLoudly() {
    Set<String> allowed = new java.util.TreeSet<>();
    for (State from : State.values()) {
      for (State to : State.values()) {
        if (from.mayBecome(to)) {
          allowed.add(from + ">" + to);
        }
      }
    }
    assertEquals(new java.util.TreeSet<>(List.of(
        "QUEUED>ASSIGNED", "QUEUED>COMPLETED",
        "RETRY_WAIT>QUEUED", "RETRY_WAIT>COMPLETED",
        "ASSIGNED>QUEUED", "ASSIGNED>RETRY_WAIT", "ASSIGNED>RUNNING", "ASSIGNED>STORING_RESULT", "ASSIGNED>COMPLETED",
        "RUNNING>QUEUED", "RUNNING>RETRY_WAIT", "RUNNING>STORING_RESULT", "RUNNING>COMPLETED",
        "STORING_RESULT>COMPLETED")), allowed);
    Job job = submit(KEY, false);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> job.moveTo(State.RUNNING, "test"));
    assertTrue(e.getMessage().contains("QUEUED -> RUNNING"), e.getMessage());
    assertEquals(EnumSet.of(State.QUEUED), EnumSet.of(job.state()));
  }

  private StreamObserver<SchedulerMessage> recorder(String worker) {
    return new StreamObserver<>() {
      @Override
      public void onNext(SchedulerMessage message) {
        sent.get(worker).add(message);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  /** A client's Execute or WaitExecution stream. */
  private static final class Recorder implements StreamObserver<Operation> {
    final List<Operation> operations = new ArrayList<>();
    volatile boolean broken;
    boolean completed;

    @Override
    public void onNext(Operation operation) {
      if (broken) {
        throw new IllegalStateException("call already cancelled");
      }
      operations.add(operation);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {
      completed = true;
    }
  }

  @Test
  void theInputsOfQueuedJobsAreUsedAgainButNotThoseOfRunningOnes() throws Exception {
    Digest file = digest('f');
    Digest other = digest('o');
    Directory root = Directory.newBuilder().addFiles(build.bazel.remote.execution.v2.FileNode.newBuilder()
        .setName("in").setDigest(file)).build();
    Action action = Action.newBuilder().setCommandDigest(digest('c')).setInputRootDigest(digest('r')).build();
    connect("w1");
    Job running = dispatcher.submit(new ActionKey("", digest('x')), action.toBuilder().setInputRootDigest(digest('s')).build(),
        Command.getDefaultInstance(), Platform.getDefaultInstance(), 0, java.util.Map.of(digest('s'),
            Directory.newBuilder().addFiles(build.bazel.remote.execution.v2.FileNode.newBuilder().setName("o").setDigest(other)).build()), NOBODY);
    Job queued = dispatcher.submit(KEY, action, Command.getDefaultInstance(), Platform.getDefaultInstance(), 0,
        java.util.Map.of(digest('r'), root), NOBODY);
    assertEquals(State.ASSIGNED, running.state());
    assertEquals(State.QUEUED, queued.state());
    List<java.util.Collection<Digest>> asked = new CopyOnWriteArrayList<>();
    build.rex.storage.BlobStore recording = new build.rex.storage.BlobStore() {
      @Override
      public Set<Digest> findMissing(java.util.Collection<Digest> digests) {
        asked.add(List.copyOf(digests));
        return Set.of();
      }

      @Override
      public java.io.InputStream openRead(Digest digest, long offset) {
        throw new UnsupportedOperationException();
      }

      @Override
      public build.rex.storage.BlobWriter newWriter(Digest digest) {
        throw new UnsupportedOperationException();
      }
    };
    assertEquals(3, new QueuedInputs(dispatcher, recording).touch());
    assertEquals(List.of(List.of(digest('c'), digest('r'), file)), asked, "the queued job's blobs, once each");
  }

  @Test
  void queuedJobsHoldTreesOnlyWithinTheBoundAndLetGoWhenDone() throws Exception {
    heldTreesMaxBytes = 150;
    dispatcher = dispatcher(3);
    Digest tree = Digest.newBuilder().setHash("d".repeat(64)).setSizeBytes(100).build();
    Map<Digest, Directory> directories = Map.of(tree, Directory.getDefaultInstance());
    Job first = dispatcher.submit(new ActionKey("", digest('1')), Action.getDefaultInstance(), Command.getDefaultInstance(),
        Platform.getDefaultInstance(), 0, directories, NOBODY);
    Job second = dispatcher.submit(new ActionKey("", digest('2')), Action.getDefaultInstance(), Command.getDefaultInstance(),
        Platform.getDefaultInstance(), 0, directories, NOBODY);
    assertEquals(directories, first.inputDirectories);
    assertEquals(Map.of(), second.inputDirectories, "past the bound: its worker reads the tree itself");
    connect("w1");
    Assignment assignment = lastAssignment("w1");
    assertEquals(first.name(), assignment.getOperation());
    assertEquals(1, assignment.getInputDirectoriesCount());
    assertTrue(assignment.getInputTreeChecked());
    finish("w1", assignment, exit(0));
    assertEquals(Map.of(), first.inputDirectories, "a finished job lets go of its tree");
    Job third = dispatcher.submit(new ActionKey("", digest('3')), Action.getDefaultInstance(), Command.getDefaultInstance(),
        Platform.getDefaultInstance(), 0, directories, NOBODY);
    assertEquals(directories, third.inputDirectories, "the room is there again");
  }
}
