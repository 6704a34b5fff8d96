package build.rex.storage.replication;

import static build.rex.storage.replication.TestStores.blob;
import static build.rex.storage.replication.TestStores.digest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.RemoteStorageException;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every blob in each mirror: writes to all, reads from the first that has it, gaps repaired. */
class MirroredBlobStoreTest {
  @TempDir Path dir;
  private final ExecutorService calls = Executors.newCachedThreadPool();
  private final Repairer repairer = new Repairer(new BlobCopier(RateLimiter.unlimited()), 2, 100);
  private final List<BlobStore> mirrors = new ArrayList<>();
  private final List<TestStores.Counting> disks = new ArrayList<>();
  private MirroredBlobStore store;

  @BeforeEach
  void twoMirrors() throws IOException {
    for (int i = 0; i < 2; i++) {
      TestStores.Counting disk = new TestStores.Counting(TestStores.disk(dir.resolve("m" + i)));
      disks.add(disk);
      mirrors.add(disk);
    }
    store = new MirroredBlobStore(() -> List.copyOf(mirrors), new FanOut(calls), repairer);
  }

  @AfterEach
  void stop() {
    repairer.close();
    calls.shutdownNow();
  }

  @Test
  void everyWriteIsInEveryMirrorWhenItReturns() throws IOException {
    store.put(digest("one"), blob("one"));
    Map<Digest, ByteString> batch = Map.of(digest("two"), blob("two"), digest("three"), blob("three"));
    assertEquals(Map.of(), store.putBatch(batch));
    for (TestStores.Counting disk : disks) {
      for (Digest digest : List.of(digest("one"), digest("two"), digest("three"))) {
        assertTrue(TestStores.holds(disk.inner, digest));
      }
    }
  }

  @Test
  void aBlobInOneMirrorIsPresentReadAndCopiedToTheOther() throws Exception {
    Digest digest = digest("only in the second");
    disks.get(1).inner.put(digest, blob("only in the second"));
    assertEquals(Set.of(), store.findMissing(List.of(digest)));
    assertTrue(TestStores.awaitHeld(disks.get(0).inner, digest), "repaired from the mirror that had it");

    Digest streamed = digest("streamed from the second");
    disks.get(1).inner.put(streamed, blob("streamed from the second"));
    try (InputStream in = store.openRead(streamed, 0)) {
      assertEquals(blob("streamed from the second"), ByteString.readFrom(in));
    }
    assertTrue(TestStores.awaitHeld(disks.get(0).inner, streamed));
  }

  @Test
  void aBatchAsksTheNextMirrorOnlyForWhatTheFirstLacked() throws Exception {
    Map<Digest, ByteString> both = new LinkedHashMap<>();
    for (int i = 0; i < 10; i++) {
      both.put(digest("both " + i), blob("both " + i));
    }
    assertEquals(Map.of(), store.putBatch(both));
    Digest second = digest("second only");
    disks.get(1).inner.put(second, blob("second only"));
    Digest absent = digest("nowhere");
    List<Digest> asked = new ArrayList<>(both.keySet());
    asked.add(second);
    asked.add(absent);
    Map<Digest, ByteString> expected = new LinkedHashMap<>(both);
    expected.put(second, blob("second only"));
    assertEquals(expected, store.getBatch(asked), "the absent one is left out");
    assertEquals(List.of(List.of(second, absent)), disks.get(1).getBatchCalls, "the second mirror saw only the first's gaps");
    assertTrue(TestStores.awaitHeld(disks.get(0).inner, second));
  }

  @Test
  void aMirrorThatDoesNotAnswerIsPassedOverAndNoAnswerAtAllIsUnavailable() throws IOException {
    Digest digest = digest("kept");
    store.put(digest, blob("kept"));
    mirrors.set(0, new TestStores.Unreachable());
    assertEquals(Set.of(), store.findMissing(List.of(digest)));
    assertEquals(blob("kept"), store.get(digest));
    assertEquals(Map.of(digest, blob("kept")), store.getBatch(List.of(digest)));
    Digest absent = digest("absent");
    assertEquals(Set.of(absent), store.findMissing(List.of(absent)), "the mirror that answered lacks it");
    assertThrows(BlobNotFoundException.class, () -> store.openRead(absent, 0));
    assertEquals(Map.of(), store.getBatch(List.of(absent)));

    mirrors.set(1, new TestStores.Unreachable());
    RemoteStorageException down = assertThrows(RemoteStorageException.class, () -> store.findMissing(List.of(absent)));
    assertEquals(io.grpc.Status.Code.UNAVAILABLE, down.status().getCode(), "present or not is unknown");
    IOException read = assertThrows(IOException.class, () -> store.openRead(absent, 0));
    assertTrue(!(read instanceof BlobNotFoundException), "not NOT_FOUND: nobody said so");
    PartlyAnsweredException batch = assertThrows(PartlyAnsweredException.class, () -> store.getBatch(List.of(digest)));
    assertEquals(Set.of(digest), batch.unanswered());
  }
}
