package build.rex.storage.replication;

import static build.rex.storage.replication.TestStores.blob;
import static build.rex.storage.replication.TestStores.digest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import com.google.protobuf.ByteString;
import java.io.IOException;
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

/** Each blob on the one store its shard function names; batches split into one call per store. */
class ShardingBlobStoreTest {
  @TempDir Path dir;
  private final ExecutorService calls = Executors.newCachedThreadPool();
  private final List<BlobStore> shards = new ArrayList<>();
  private final List<TestStores.Counting> counted = new ArrayList<>();

  @BeforeEach
  void threeShards() throws IOException {
    for (int i = 0; i < 3; i++) {
      TestStores.Counting store = new TestStores.Counting(TestStores.disk(dir.resolve("s" + i)));
      counted.add(store);
      shards.add(store);
    }
  }

  @AfterEach
  void stop() {
    calls.shutdownNow();
  }

  private ShardingBlobStore sharding() {
    return new ShardingBlobStore(d -> shards.get(Character.digit(d.getHash().charAt(0), 16) % 3), new FanOut(calls));
  }

  private static Map<Digest, ByteString> blobs(int count) {
    Map<Digest, ByteString> blobs = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      blobs.put(digest("s" + i), blob("s" + i));
    }
    return blobs;
  }

  private int shardOf(Digest digest) {
    return Character.digit(digest.getHash().charAt(0), 16) % 3;
  }

  @Test
  void eachBlobIsOnItsShardOnlyAndABatchIsOneCallPerShard() throws IOException {
    ShardingBlobStore store = sharding();
    Map<Digest, ByteString> blobs = blobs(40);
    assertEquals(Map.of(), store.putBatch(blobs));
    for (Digest digest : blobs.keySet()) {
      for (int s = 0; s < 3; s++) {
        assertEquals(s == shardOf(digest), TestStores.holds(counted.get(s).inner, digest), "blob on its shard only");
      }
    }
    counted.forEach(c -> c.findMissingCalls.clear());
    assertEquals(blobs, store.getBatch(blobs.keySet()));
    Digest absent = digest("absent");
    Digest empty = build.rex.storage.Digests.of(ByteString.EMPTY);
    List<Digest> asked = new ArrayList<>(blobs.keySet());
    asked.add(absent);
    asked.add(empty);
    assertEquals(Set.of(absent), store.findMissing(asked), "the empty blob is never missing");
    for (TestStores.Counting shard : counted) {
      assertEquals(1, shard.putBatchCalls.size());
      assertEquals(1, shard.getBatchCalls.size());
      assertEquals(1, shard.findMissingCalls.size());
      assertTrue(shard.findMissingCalls.get(0).stream().noneMatch(d -> d.getSizeBytes() == 0), "the empty blob is asked of no store");
    }
    Digest one = digest("s3");
    store.put(one, blob("s3")); // single writes and reads go to the shard as well
    assertEquals(blob("s3"), store.get(one));
  }

  @Test
  void aShardThatDoesNotAnswerFailsTheBatchWithWhatTheOthersSaid() throws IOException {
    ShardingBlobStore store = sharding();
    Map<Digest, ByteString> blobs = blobs(30);
    assertEquals(Map.of(), store.putBatch(blobs));
    shards.set(1, new TestStores.Unreachable());
    Set<Digest> onTheDeadShard = new java.util.HashSet<>();
    blobs.keySet().stream().filter(d -> shardOf(d) == 1).forEach(onTheDeadShard::add);

    PartlyAnsweredException partly = assertThrows(PartlyAnsweredException.class, () -> store.getBatch(blobs.keySet()));
    assertEquals(onTheDeadShard, partly.unanswered());
    assertEquals(blobs.size() - onTheDeadShard.size(), partly.found().size(), "what the live shards found");
    assertEquals(io.grpc.Status.Code.UNAVAILABLE, partly.status().getCode());

    String name = java.util.stream.IntStream.range(0, 100).mapToObj(i -> "x" + i)
        .filter(n -> shardOf(digest(n)) != 1).findFirst().orElseThrow();
    Digest notStored = digest(name);
    List<Digest> asked = new ArrayList<>(blobs.keySet());
    asked.add(notStored);
    partly = assertThrows(PartlyAnsweredException.class, () -> store.findMissing(asked));
    assertEquals(onTheDeadShard, partly.unanswered());
    assertEquals(Set.of(notStored), partly.missing(), "the live shards' answer");

    Digest onDead = onTheDeadShard.iterator().next();
    Map<Digest, IOException> failures = store.putBatch(Map.of(notStored, blob(name), onDead, blobs.get(onDead)));
    assertEquals(Set.of(onDead), failures.keySet(), "only the dead shard's blob failed");
    assertTrue(TestStores.holds(counted.get(shardOf(notStored)).inner, notStored));
  }
}
