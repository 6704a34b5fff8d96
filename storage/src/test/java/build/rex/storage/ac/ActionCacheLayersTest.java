package build.rex.storage.ac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.Tree;
import build.rex.storage.Digests;
import build.rex.storage.cache.RecentKeys;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ActionCacheLayersTest {
  @TempDir Path root;
  private static final Digest ACTION = Digests.of(ByteString.copyFromUtf8("action"));

  private static ActionResult result(int exitCode) {
    return ActionResult.newBuilder().setExitCode(exitCode).build();
  }

  @Test
  void diskEntriesSurviveReopeningAndKeepInstancesApart() throws Exception {
    new DiskActionCache(root, 1 << 20).put(new ActionKey("a", ACTION), result(1));
    new DiskActionCache(root, 1 << 20).put(new ActionKey("b", ACTION), result(2));
    DiskActionCache reopened = new DiskActionCache(root, 1 << 20);
    assertEquals(Optional.of(result(1)), reopened.get(new ActionKey("a", ACTION)));
    assertEquals(Optional.of(result(2)), reopened.get(new ActionKey("b", ACTION)));
    assertEquals(Optional.empty(), reopened.get(new ActionKey("", ACTION)));
  }

  private static ActionResult resultOfSize(int bytes) {
    return ActionResult.newBuilder().setStdoutRaw(ByteString.copyFrom(new byte[bytes - 4])).build();
  }

  @Test
  void diskEntriesAreBoundedLeastRecentlyUsedFirstAcrossRestarts() throws Exception {
    DiskActionCache cache = new DiskActionCache(root, 10_000);
    java.util.List<ActionKey> keys = new java.util.ArrayList<>();
    for (int i = 0; i < 10; i++) {
      keys.add(new ActionKey("", Digests.of(ByteString.copyFromUtf8("action " + i))));
      cache.put(keys.get(i), resultOfSize(1000));
    }
    assertEquals(10, cache.entries());
    assertEquals(0, cache.evictions());
    assertTrue(cache.get(keys.get(0)).isPresent()); // used: now the most recent
    cache.put(new ActionKey("", Digests.of(ByteString.copyFromUtf8("one more"))), resultOfSize(1000));
    assertTrue(cache.sizeBytes() <= 9_000, "down to 90% of the bound: " + cache.sizeBytes());
    assertEquals(Optional.empty(), cache.get(keys.get(1)), "the least recently used went");
    assertTrue(cache.get(keys.get(0)).isPresent(), "the one used just now stayed");
    DiskActionCache smaller = new DiskActionCache(root, 5_000);
    assertTrue(smaller.sizeBytes() <= 5_000, "reopened with a smaller bound, it evicts at once: " + smaller.sizeBytes());
    assertEquals(smaller.entries(), java.nio.file.Files.walk(root.resolve("ac"), 3)
        .filter(f -> f.getFileName().toString().matches("[0-9a-f]{64}-\\d+")).count(), "index and files agree");
  }

  @Test
  void memoryLayerWritesThroughAndServesRepeatsFromMemory() throws Exception {
    AtomicInteger backingReads = new AtomicInteger();
    Map<ActionKey, ActionResult> durable = new HashMap<>();
    ActionCache backing = new ActionCache() {
      @Override
      public Optional<ActionResult> get(ActionKey key) {
        backingReads.incrementAndGet();
        return Optional.ofNullable(durable.get(key));
      }

      @Override
      public void put(ActionKey key, ActionResult result) {
        durable.put(key, result);
      }
    };
    InMemoryActionCache cache = new InMemoryActionCache(backing, 1);
    ActionKey key = new ActionKey("", ACTION);
    cache.put(key, result(3));
    assertEquals(result(3), durable.get(key), "written through");
    cache.get(key);
    cache.get(key);
    assertEquals(0, backingReads.get(), "served from memory");
    cache.put(new ActionKey("other", ACTION), result(4)); // pushes the first entry out of a 1-entry memory
    assertEquals(Optional.of(result(3)), cache.get(key));
    assertEquals(1, backingReads.get());
  }

  /** A durable cache that counts its reads. */
  private static final class CountingCache implements ActionCache {
    final Map<ActionKey, ActionResult> results = new HashMap<>();
    int reads;

    @Override
    public synchronized Optional<ActionResult> get(ActionKey key) {
      reads++;
      return Optional.ofNullable(results.get(key));
    }

    @Override
    public synchronized void put(ActionKey key, ActionResult result) {
      results.put(key, result);
    }
  }

  @Test
  void aMissJustSeenIsTrustedOnlyByTheViewThatAsksForItAndOnlyUntilAResultIsKnown() throws Exception {
    CountingCache durable = new CountingCache();
    AtomicLong nanos = new AtomicLong(1_000_000_000L);
    InMemoryActionCache cache = new InMemoryActionCache(durable, 1,
        new RecentKeys<>(java.time.Duration.ofSeconds(10), 100, nanos::get));
    ActionCache execute = cache.trustingRecentMisses();
    ActionKey key = new ActionKey("", ACTION);

    assertEquals(Optional.empty(), cache.get(key), "GetActionResult: a miss");
    assertEquals(Optional.empty(), execute.get(key));
    assertEquals(1, durable.reads, "Execute took the miss just seen as its own");
    assertEquals(Optional.empty(), cache.get(key));
    assertEquals(2, durable.reads, "the plain view always asks");

    durable.results.put(key, result(0)); // stored by a worker this scheduler was not told of
    nanos.addAndGet(9_999_999_999L);
    assertEquals(Optional.empty(), execute.get(key), "still within the time to live");
    nanos.addAndGet(1);
    assertEquals(Optional.of(result(0)), execute.get(key), "expired: asked again");
    assertEquals(3, durable.reads);

    ActionKey told = new ActionKey("told", ACTION), stored = new ActionKey("stored", ACTION);
    cache.get(told);
    cache.get(stored);
    durable.results.put(told, result(1)); // a worker stored the result and told the scheduler
    cache.remember(told, result(1));
    cache.put(stored, result(2)); // a client's UpdateActionResult; pushes "told" out of a 1-entry memory
    assertEquals(5, durable.reads);
    assertEquals(Optional.of(result(1)), execute.get(told), "the miss was taken back when the result was told");
    assertEquals(6, durable.reads);
    // Reading "told" pushed "stored" out of memory in turn.
    assertEquals(Optional.of(result(2)), execute.get(stored), "the miss was taken back when the result was stored");
    assertEquals(7, durable.reads);

    CountingCache plain = new CountingCache();
    ActionCache withoutMisses = new InMemoryActionCache(plain, 10).trustingRecentMisses();
    withoutMisses.get(key);
    withoutMisses.get(key);
    assertEquals(2, plain.reads, "no time to live: every miss is asked again");
  }

  @Test
  void entriesWithMissingBlobsAreNotServed() throws Exception {
    DiskBlobStore cas = DiskBlobStore.open(root.resolve("cas"), new DiskStoreSettings(1 << 20, 0.5, 0.9, false));
    CompletenessCheckingActionCache cache = new CompletenessCheckingActionCache(new DiskActionCache(root, 1 << 20), cas);
    ByteString out = ByteString.copyFromUtf8("output");
    ByteString inTree = ByteString.copyFromUtf8("file in a directory");
    Tree tree = Tree.newBuilder().setRoot(Directory.newBuilder()
        .addFiles(FileNode.newBuilder().setName("f").setDigest(Digests.of(inTree)))).build();
    ActionResult result = ActionResult.newBuilder()
        .addOutputFiles(build.bazel.remote.execution.v2.OutputFile.newBuilder().setPath("out").setDigest(Digests.of(out)))
        .addOutputDirectories(build.bazel.remote.execution.v2.OutputDirectory.newBuilder()
            .setPath("dir").setTreeDigest(Digests.of(tree)))
        .build();
    ActionKey key = new ActionKey("", ACTION);
    cache.put(key, result);
    assertEquals(Optional.empty(), cache.get(key), "nothing is in the CAS yet");
    put(cas, out);
    put(cas, tree.toByteString());
    assertEquals(Optional.empty(), cache.get(key), "a file inside the output directory is missing");
    put(cas, inTree);
    assertTrue(cache.get(key).isPresent());
  }

  private static void put(DiskBlobStore cas, ByteString data) throws IOException {
    cas.put(Digests.of(data), data);
  }
}
