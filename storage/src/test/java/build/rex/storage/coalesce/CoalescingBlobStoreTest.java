package build.rex.storage.coalesce;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.Digests;
import build.rex.storage.ForwardingBlobStore;
import build.rex.storage.RemoteStorageException;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import build.rex.storage.replication.PartlyAnsweredException;
import com.google.protobuf.ByteString;
import io.grpc.Context;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CoalescingBlobStoreTest {
  @TempDir Path dir;
  private DiskBlobStore disk;
  private Gate gate;
  private final ExecutorService callers = Executors.newCachedThreadPool();

  @BeforeEach
  void setUp() throws IOException {
    disk = DiskBlobStore.open(dir, new DiskStoreSettings(1 << 30, 0.5, 0.9, false));
    gate = new Gate(disk);
  }

  @AfterEach
  void tearDown() {
    gate.open.countDown();
    callers.shutdownNow();
  }

  @Test
  void aCallerAloneGoesStraightThroughAndGetsItsOwnAnswer() throws IOException {
    gate.open.countDown();
    Digest present = stored("present");
    Digest absent = Digests.of(ByteString.copyFromUtf8("absent"));
    CoalescingBlobStore store = new CoalescingBlobStore(gate, 1, 100);

    assertEquals(Set.of(absent), store.findMissing(List.of(present, absent)));
    assertEquals(Set.of(), store.findMissing(List.of(present)));
    assertEquals(2, store.calls());
    assertEquals(List.of(List.of(present, absent), List.of(present)), gate.asked());
  }

  @Test
  void callersThatArriveDuringACallAreAskedForTogetherAndEachGetsOnlyItsAnswer() throws Exception {
    Digest present = stored("present");
    CoalescingBlobStore store = new CoalescingBlobStore(gate, 1, 100);
    Future<Set<Digest>> first = callers.submit(() -> store.findMissing(List.of(present)));
    gate.awaitCalls(1);

    List<Digest> absent = new ArrayList<>();
    List<Future<Set<Digest>>> later = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Digest digest = Digests.of(ByteString.copyFromUtf8("absent " + i));
      absent.add(digest);
      later.add(callers.submit(() -> store.findMissing(List.of(present, digest))));
    }
    awaitQueued(store, 5);
    gate.open.countDown();

    assertEquals(Set.of(), first.get(30, TimeUnit.SECONDS));
    for (int i = 0; i < 5; i++) {
      assertEquals(Set.of(absent.get(i)), later.get(i).get(30, TimeUnit.SECONDS));
    }
    assertEquals(2, store.calls(), "the five who waited were asked for in one call");
    Collection<Digest> merged = gate.asked().get(1);
    assertEquals(6, merged.size(), "each digest once: " + merged);
    assertTrue(merged.containsAll(absent) && merged.contains(present));
  }

  @Test
  void mergedCallsStayWithinTheDigestLimit() throws Exception {
    CoalescingBlobStore store = new CoalescingBlobStore(gate, 1, 4);
    Future<Set<Digest>> blocker = callers.submit(() -> store.findMissing(List.of(digest("blocker"))));
    gate.awaitCalls(1);
    List<Future<Set<Digest>>> later = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      List<Digest> two = List.of(digest(i + "a"), digest(i + "b"));
      later.add(callers.submit(() -> store.findMissing(two)));
    }
    awaitQueued(store, 3);
    gate.open.countDown();

    blocker.get(30, TimeUnit.SECONDS);
    for (Future<Set<Digest>> answer : later) {
      assertEquals(2, answer.get(30, TimeUnit.SECONDS).size());
    }
    assertEquals(3, store.calls(), "two callers' four digests, then the third's two");
    assertTrue(gate.asked().stream().allMatch(call -> call.size() <= 4), gate.asked().toString());
  }

  @Test
  void aFailureReachesEveryCallerItAnsweredAndTheNextCallWorks() throws Exception {
    gate.open.countDown();
    Digest present = stored("present");
    IOException down = new RemoteStorageException(Status.UNAVAILABLE.withDescription("worker down"));
    gate.failWith(digests -> down);
    CoalescingBlobStore store = new CoalescingBlobStore(gate, 2, 100);

    assertSame(down, assertThrows(IOException.class, () -> store.findMissing(List.of(present))));
    gate.failWith(digests -> null);
    assertEquals(Set.of(), store.findMissing(List.of(present)));
  }

  @Test
  void aCallerWhoseDigestsWereAnsweredGetsItsAnswerWhenOthersWereNot() throws Exception {
    Digest answered = digest("answered");
    Digest unanswered = digest("unanswered");
    gate.failWith(digests -> PartlyAnsweredException.ofFindMissing(Set.of(answered), Set.of(unanswered),
        new IOException("one owner down")));
    CoalescingBlobStore store = new CoalescingBlobStore(gate, 1, 100);
    Future<Set<Digest>> blocker = callers.submit(() -> store.findMissing(List.of(digest("blocker"))));
    gate.awaitCalls(1);
    Future<Set<Digest>> lucky = callers.submit(() -> store.findMissing(List.of(answered)));
    Future<Set<Digest>> unlucky = callers.submit(() -> store.findMissing(List.of(answered, unanswered)));
    awaitQueued(store, 2);
    gate.open.countDown();

    assertEquals(Set.of(), blocker.get(30, TimeUnit.SECONDS), "its digest was answered: present");
    assertEquals(Set.of(answered), lucky.get(30, TimeUnit.SECONDS));
    Exception failed = assertThrows(Exception.class, () -> unlucky.get(30, TimeUnit.SECONDS));
    assertTrue(failed.getCause() instanceof PartlyAnsweredException, failed.toString());
  }

  @Test
  void aMergedCallIsNotCancelledWithTheCallerWhoseThreadRunsIt() throws Exception {
    gate.open.countDown();
    Digest present = stored("present");
    CoalescingBlobStore store = new CoalescingBlobStore(gate, 1, 100);
    Context.CancellableContext cancelled = Context.current().withCancellation();
    cancelled.cancel(null);

    assertEquals(Set.of(), cancelled.call(() -> store.findMissing(List.of(present))));
    assertFalse(gate.sawCancelled, "the store below ran in the cancelled caller's context");
  }

  @Test
  void writesThatArriveDuringAWriteGoBelowTogetherAndEachCallerLearnsOnlyItsOwnFailures() throws Exception {
    CoalescingBlobStore store = new CoalescingBlobStore(gate, 1, 100);
    ByteString first = ByteString.copyFromUtf8("written first");
    Future<java.util.Map<Digest, IOException>> blocker = callers.submit(() -> store.putBatch(java.util.Map.of(Digests.of(first), first)));
    gate.awaitWrites(1);

    List<ByteString> later = new ArrayList<>();
    List<Future<java.util.Map<Digest, IOException>>> answers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      ByteString blob = ByteString.copyFromUtf8("written later " + i);
      later.add(blob);
      answers.add(callers.submit(() -> store.putBatch(java.util.Map.of(Digests.of(blob), blob))));
    }
    Digest lie = Digests.of(ByteString.copyFromUtf8("what the bytes should have been"));
    Future<java.util.Map<Digest, IOException>> mismatched = callers.submit(() ->
        store.putBatch(java.util.Map.of(lie, ByteString.copyFromUtf8("other bytes"))));
    awaitQueued(store::queuedWrites, 5);
    gate.open.countDown();

    assertEquals(java.util.Map.of(), blocker.get(30, TimeUnit.SECONDS));
    for (Future<java.util.Map<Digest, IOException>> answer : answers) {
      assertEquals(java.util.Map.of(), answer.get(30, TimeUnit.SECONDS));
    }
    java.util.Map<Digest, IOException> failed = mismatched.get(30, TimeUnit.SECONDS);
    assertEquals(Set.of(lie), failed.keySet());
    assertTrue(failed.get(lie) instanceof build.rex.storage.DigestMismatchException, failed.toString());
    assertEquals(2, store.writeCalls(), "the five who waited were written in one call");
    assertEquals(5, gate.written().get(1).size());
    for (ByteString blob : later) {
      assertEquals(blob, disk.get(Digests.of(blob)));
    }
  }

  @Test
  void askingForNothingCallsNothing() throws IOException {
    CoalescingBlobStore store = new CoalescingBlobStore(gate, 1, 100);
    assertEquals(Set.of(), store.findMissing(List.of()));
    assertEquals(0, store.calls());
  }

  private Digest stored(String name) throws IOException {
    ByteString data = ByteString.copyFromUtf8(name);
    Digest digest = Digests.of(data);
    disk.put(digest, data);
    return digest;
  }

  private static Digest digest(String name) {
    return Digests.of(ByteString.copyFromUtf8(name));
  }

  private static void awaitQueued(CoalescingBlobStore store, int callers) throws InterruptedException {
    awaitQueued(store::queued, callers);
  }

  private static void awaitQueued(java.util.function.IntSupplier queued, int callers) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (queued.getAsInt() < callers) {
      assertTrue(System.nanoTime() < deadline, "only " + queued.getAsInt() + " callers queued");
      Thread.sleep(5);
    }
  }

  /** A store whose findMissing calls wait for {@link #open}, record what they were asked and may fail. */
  private static final class Gate extends ForwardingBlobStore {
    final CountDownLatch open = new CountDownLatch(1);
    private final List<Collection<Digest>> asked = new CopyOnWriteArrayList<>();
    private final List<Set<Digest>> written = new CopyOnWriteArrayList<>();
    private volatile Function<Collection<Digest>, IOException> failure = digests -> null;
    volatile boolean sawCancelled;

    Gate(BlobStore inner) {
      super(inner);
    }

    void failWith(Function<Collection<Digest>, IOException> failure) {
      this.failure = failure;
    }

    List<Collection<Digest>> asked() {
      return asked;
    }

    void awaitCalls(int calls) throws InterruptedException {
      awaitQueued(asked::size, calls);
    }

    List<Set<Digest>> written() {
      return written;
    }

    void awaitWrites(int calls) throws InterruptedException {
      awaitQueued(written::size, calls);
    }

    @Override
    public java.util.Map<Digest, IOException> putBatch(java.util.Map<Digest, ByteString> blobs) {
      written.add(Set.copyOf(blobs.keySet()));
      try {
        if (!open.await(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the test never opened the gate");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      return inner.putBatch(blobs);
    }

    @Override
    public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
      asked.add(List.copyOf(digests));
      sawCancelled |= Context.current().isCancelled();
      try {
        if (!open.await(30, TimeUnit.SECONDS)) {
          throw new IOException("the test never opened the gate");
        }
      } catch (InterruptedException e) {
        throw new java.io.InterruptedIOException();
      }
      IOException fail = failure.apply(digests);
      if (fail != null) {
        throw fail;
      }
      return inner.findMissing(digests);
    }
  }
}
