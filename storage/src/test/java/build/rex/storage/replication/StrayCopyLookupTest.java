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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads the owners cannot serve find copies left elsewhere, which go back to the owners. */
class StrayCopyLookupTest {
  @TempDir Path dir;
  private final ExecutorService calls = Executors.newCachedThreadPool();
  private final Repairer repairer = new Repairer(new BlobCopier(RateLimiter.unlimited()), 2, 100);
  private BlobStore owners;
  private TestStores.Counting formerOwner;
  private TestStores.Counting draining;
  private StrayCopyLookup store;

  @BeforeEach
  void stores() throws IOException {
    owners = TestStores.disk(dir.resolve("owner"));
    formerOwner = new TestStores.Counting(TestStores.disk(dir.resolve("former")));
    draining = new TestStores.Counting(TestStores.disk(dir.resolve("draining")));
    store = new StrayCopyLookup(owners, digest -> List.of(formerOwner, draining), new FanOut(calls), repairer);
  }

  @AfterEach
  void stop() {
    repairer.close();
    calls.shutdownNow();
  }

  @Test
  void aCopyOnlyAnotherStoreHoldsIsReadAndPutBackWithTheOwners() throws Exception {
    Digest streamed = digest("left behind");
    draining.inner.put(streamed, blob("left behind"));
    assertEquals(Set.of(streamed), store.findMissing(List.of(streamed)), "a stray copy does not count as stored");
    try (InputStream in = store.openRead(streamed, 0)) {
      assertEquals(blob("left behind"), ByteString.readFrom(in));
    }
    assertTrue(TestStores.awaitHeld(owners, streamed), "copied back to the owners");

    Digest inBatch = digest("left behind too");
    formerOwner.inner.put(inBatch, blob("left behind too"));
    Digest atHome = digest("at home");
    owners.put(atHome, blob("at home"));
    Digest absent = digest("nowhere");
    formerOwner.findMissingCalls.clear();
    assertEquals(Map.of(inBatch, blob("left behind too"), atHome, blob("at home")),
        store.getBatch(List.of(inBatch, atHome, absent)));
    assertEquals(List.of(List.of(inBatch, absent)), formerOwner.findMissingCalls,
        "one call per other store for all that the owners lacked");
    assertTrue(TestStores.awaitHeld(owners, inBatch));
    assertThrows(BlobNotFoundException.class, () -> store.openRead(absent, 0));
  }

  @Test
  void ownersThatDoNotAnswerAndNoStrayCopyIsUnavailable() throws Exception {
    store = new StrayCopyLookup(new TestStores.Unreachable(), digest -> List.of(formerOwner), new FanOut(calls), repairer);
    Digest digest = digest("unknown");
    RemoteStorageException e = assertThrows(RemoteStorageException.class, () -> store.openRead(digest, 0));
    assertEquals(io.grpc.Status.Code.UNAVAILABLE, e.status().getCode());
    formerOwner.inner.put(digest, blob("unknown"));
    try (InputStream in = store.openRead(digest, 0)) {
      assertEquals(blob("unknown"), ByteString.readFrom(in), "the stray copy serves while the owners are down");
    }
  }
}
