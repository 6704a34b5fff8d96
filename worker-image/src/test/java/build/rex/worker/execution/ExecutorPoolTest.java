package build.rex.worker.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.rex.storage.Digests;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.ActionKey;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import build.rex.v1.Assignment;
import build.rex.v1.Executor;
import build.rex.v1.WorkerMessage;
import build.rex.worker.sandbox.Sandbox;
import com.google.protobuf.util.Durations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The executors' reports: the client's answer first, the Action Cache write after it. */
class ExecutorPoolTest {
  @TempDir Path dir;
  private final BlockingQueue<WorkerMessage> toScheduler = new LinkedBlockingQueue<>();
  private final SchedulerConnection scheduler = toScheduler::add;
  private final SlowActionCache actionCache = new SlowActionCache();
  private Sandbox sandbox;
  private ExecutorPool pool;

  @BeforeEach
  void start() throws IOException {
    DiskBlobStore cluster = DiskBlobStore.open(dir.resolve("cas"), new DiskStoreSettings(1 << 24, 0.8, 0.9, false));
    Directory empty = Directory.getDefaultInstance();
    cluster.put(Digests.of(empty), empty.toByteString());
    Path execRoots = Files.createDirectories(dir.resolve("cas").resolve("exec"));
    sandbox = Sandbox.probe(new Sandbox.Settings(false, "nobody", 64, 1024, Path.of("/sys/fs/cgroup"), dir.resolve("bin")));
    ActionRunner runner = new ActionRunner("w", cluster, cluster, execRoots, sandbox);
    pool = new ExecutorPool(List.of(Executor.newBuilder().setExecutorId("e").build()), runner, actionCache,
        (except, message) -> { });
  }

  @AfterEach
  void stop() {
    actionCache.open.countDown();
    pool.close();
    sandbox.close();
  }

  private static Assignment assignment(String operation) {
    Command command = Command.newBuilder().addArguments("/bin/true").build();
    Action action = Action.newBuilder().setCommandDigest(Digests.of(command))
        .setInputRootDigest(Digests.of(Directory.getDefaultInstance())).build();
    return Assignment.newBuilder().setOperation(operation).setAttempt(1).setInstanceName("main")
        .setAction(action).setActionDigest(Digests.of(action)).setCommand(command)
        .setTimeout(Durations.fromSeconds(30)).setExecutorId("e")
        .addInputDirectories(Directory.getDefaultInstance())
        .addInputDirectoryDigests(Digests.of(Directory.getDefaultInstance())).build();
  }

  private WorkerMessage next(WorkerMessage.MessageCase expected) throws InterruptedException {
    while (true) {
      WorkerMessage message = toScheduler.poll(30, TimeUnit.SECONDS);
      assertTrue(message != null, "no " + expected + " within 30 s");
      if (message.getMessageCase() == expected) {
        return message;
      }
      assertTrue(message.getMessageCase() == WorkerMessage.MessageCase.STARTED, "unexpected " + message);
    }
  }

  @Test
  void theResultIsReportedBeforeItsActionCacheWriteEndsAndTheExecutorTakesWorkMeanwhile() throws Exception {
    Assignment first = assignment("operations/main/first");
    pool.offer(scheduler, first);

    WorkerMessage finished = next(WorkerMessage.MessageCase.FINISHED);
    assertTrue(finished.getFinished().getCacheHandled(), "the worker takes care of the Action Cache");
    assertEquals(0, finished.getFinished().getResponse().getResult().getExitCode());
    actionCache.awaitWriting();
    assertFalse(pool.awaitIdle(Duration.ZERO), "a result still being stored keeps the pool from being idle");

    pool.offer(scheduler, assignment("operations/main/second"));
    WorkerMessage second = next(WorkerMessage.MessageCase.FINISHED);
    assertEquals("operations/main/second", second.getFinished().getOperation(),
        "the executor ran the next action while the first result was being written");

    actionCache.open.countDown();
    assertTrue(pool.awaitIdle(Duration.ofSeconds(30)));
    assertTrue(actionCache.entries.containsKey(new ActionKey("main", first.getActionDigest())));
  }

  @Test
  void aResultTheWorkerCouldNotStoreIsHandedToTheScheduler() throws Exception {
    actionCache.open.countDown();
    actionCache.failing = true;
    Assignment assignment = assignment("operations/main/failing-write");
    pool.offer(scheduler, assignment);

    WorkerMessage finished = next(WorkerMessage.MessageCase.FINISHED);
    WorkerMessage notCached = next(WorkerMessage.MessageCase.RESULT_NOT_CACHED);
    assertEquals("main", notCached.getResultNotCached().getInstanceName());
    assertEquals(assignment.getActionDigest(), notCached.getResultNotCached().getActionDigest());
    assertEquals(finished.getFinished().getResponse().getResult(), notCached.getResultNotCached().getResult());
    assertEquals(assignment.getOperation(), notCached.getResultNotCached().getOperation());
  }

  /** An Action Cache whose writes wait for {@link #open}, or fail. */
  private static final class SlowActionCache implements ActionCache {
    final CountDownLatch open = new CountDownLatch(1);
    final CountDownLatch writing = new CountDownLatch(1);
    final Map<ActionKey, ActionResult> entries = new ConcurrentHashMap<>();
    volatile boolean failing;

    void awaitWriting() throws InterruptedException {
      assertTrue(writing.await(30, TimeUnit.SECONDS), "the result was never written");
    }

    @Override
    public Optional<ActionResult> get(ActionKey key) {
      return Optional.ofNullable(entries.get(key));
    }

    @Override
    public void put(ActionKey key, ActionResult result) throws IOException {
      writing.countDown();
      try {
        open.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        throw new java.io.InterruptedIOException();
      }
      if (failing) {
        throw new IOException("the owners are unreachable");
      }
      entries.put(key, result);
    }
  }
}
