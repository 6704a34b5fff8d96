package build.rex.storage.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.Digests;
import build.rex.storage.RemoteStorageException;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Collection;
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

/** The cluster's CAS as composed by {@link ClusterStorage#replicated}, over three disk stores, without any network. */
class ReplicatedCasTest {
  @TempDir Path dir;
  private final Map<String, BlobStore> members = new LinkedHashMap<>();
  private final ExecutorService calls = Executors.newCachedThreadPool();
  private Repairer repairer;
  private Placement<BlobStore> placement;
  private BlobStore store;

  @BeforeEach
  void threeMembers() throws IOException {
    for (String name : List.of("a", "b", "c")) {
      members.put(name, DiskBlobStore.open(dir.resolve(name), new DiskStoreSettings(1 << 30, 0.5, 0.9, false)));
    }
    placement = new Placement<>(members, Map.of(), 2);
    repairer = new Repairer(new BlobCopier(RateLimiter.unlimited()), 2, 100);
    store = ClusterStorage.replicated(() -> placement, calls, repairer);
  }

  @AfterEach
  void stop() {
    repairer.close();
    calls.shutdownNow();
  }

  private static ByteString blob(int i) {
    return ByteString.copyFromUtf8("replicated " + i);
  }

  private long holders(Digest digest) {
    return members.values().stream().filter(m -> missing(m, digest).isEmpty()).count();
  }

  private static Collection<Digest> missing(BlobStore store, Digest digest) {
    try {
      return store.findMissing(List.of(digest));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private void awaitHolders(Digest digest, long count) throws InterruptedException {
    for (int i = 0; i < 3000 && holders(digest) != count; i++) {
      Thread.sleep(10);
    }
    assertEquals(count, holders(digest));
  }

  @Test
  void writesGoToExactlyTheTwoOwners() throws IOException {
    for (int i = 0; i < 50; i++) {
      Digest digest = Digests.of(blob(i));
      store.put(digest, blob(i));
      for (BlobStore owner : placement.owners(digest.getHash())) {
        assertEquals(Set.of(), owner.findMissing(List.of(digest)));
      }
      assertEquals(2, holders(digest));
    }
    Map<Digest, ByteString> batch = new LinkedHashMap<>();
    for (int i = 50; i < 100; i++) {
      batch.put(Digests.of(blob(i)), blob(i));
    }
    assertEquals(Map.of(), store.putBatch(batch));
    batch.keySet().forEach(d -> assertEquals(2, holders(d)));
    assertEquals(batch, store.getBatch(batch.keySet()));
  }

  @Test
  void aCopyMissingOnOneOwnerIsStillPresentAndIsRepaired() throws Exception {
    Digest digest = Digests.of(blob(1));
    placement.owners(digest.getHash()).get(1).put(digest, blob(1)); // only the second owner has it
    assertEquals(Set.of(), store.findMissing(List.of(digest)));
    awaitHolders(digest, 2);
  }

  @Test
  void aCorruptCopyOnAnOwnerIsPassedOverQuarantinedAndRepaired() throws Exception {
    Map<String, BlobStore> verified = new LinkedHashMap<>();
    members.forEach((name, disk) -> verified.put(name,
        new build.rex.storage.verify.VerifyingBlobStore(disk, (DiskBlobStore) disk)));
    Placement<BlobStore> verifiedPlacement = new Placement<>(verified, Map.of(), 2);
    BlobStore reading = ClusterStorage.replicated(() -> verifiedPlacement, calls, repairer);
    for (boolean batch : new boolean[] {false, true}) {
      ByteString data = ByteString.copyFromUtf8("rots on the first owner, read " + (batch ? "in a batch" : "streamed"));
      Digest digest = Digests.of(data);
      reading.put(digest, data);
      String firstOwner = verified.entrySet().stream()
          .filter(e -> e.getValue() == verifiedPlacement.owners(digest.getHash()).get(0)).findFirst().orElseThrow().getKey();
      DiskBlobStore rotten = (DiskBlobStore) members.get(firstOwner);
      long isolatedBefore = rotten.isolatedBlobs();
      java.nio.file.Files.write(rotten.blobPath(digest), data.concat(ByteString.copyFromUtf8("!")).substring(1).toByteArray());
      if (batch) {
        assertEquals(Map.of(digest, data), reading.getBatch(List.of(digest)));
      } else {
        try (InputStream in = reading.openRead(digest, 0)) {
          assertEquals(data, ByteString.readFrom(in));
        }
      }
      assertEquals(isolatedBefore + 1, rotten.isolatedBlobs(), "the bad copy was taken out");
      awaitHolders(digest, 2);
      assertEquals(data, rotten.get(digest), "and an intact one put back");
    }
  }

  @Test
  void aStrayCopyOnANonOwnerIsFoundAndCopiedToTheOwners() throws Exception {
    Digest digest = Digests.of(blob(2));
    placement.others(digest.getHash()).get(0).put(digest, blob(2)); // left by a membership change
    try (InputStream in = store.openRead(digest, 0)) {
      assertEquals(blob(2), ByteString.readFrom(in));
    }
    awaitHolders(digest, 3);
    Digest absent = Digests.of(blob(3));
    assertThrows(BlobNotFoundException.class, () -> store.openRead(absent, 0));
    assertEquals(Set.of(absent), store.findMissing(List.of(absent)));
  }

  @Test
  void oneOwnerDownStillAnswersFromTheOther() throws Exception {
    Digest digest = Digests.of(blob(4));
    store.put(digest, blob(4));
    String down = placement.ownerNames(digest.getHash()).get(0);
    Map<String, BlobStore> withOneDown = new LinkedHashMap<>(members);
    withOneDown.put(down, new TestStores.Unreachable());
    placement = new Placement<>(withOneDown, Map.of(), 2);
    assertEquals(Set.of(), store.findMissing(List.of(digest)));
    try (InputStream in = store.openRead(digest, 0)) {
      assertEquals(blob(4), ByteString.readFrom(in));
    }
  }

  @Test
  void noMembersIsUnavailable() {
    placement = Placement.empty();
    RemoteStorageException e = assertThrows(RemoteStorageException.class, () -> store.findMissing(List.of(Digests.of(blob(5)))));
    assertEquals(io.grpc.Status.Code.UNAVAILABLE, e.status().getCode());
  }

  @Test
  void aBatchCostsOneCallPerMemberAndRankNotOnePerBlob() throws IOException {
    Map<String, TestStores.Counting> counted = new LinkedHashMap<>();
    members.forEach((name, disk) -> counted.put(name, new TestStores.Counting(disk)));
    Placement<BlobStore> countedPlacement = new Placement<>(new LinkedHashMap<>(counted), Map.of(), 2);
    BlobStore cas = ClusterStorage.replicated(() -> countedPlacement, calls, repairer);
    Map<Digest, ByteString> batch = new LinkedHashMap<>();
    for (int i = 0; i < 60; i++) {
      batch.put(Digests.of(blob(1000 + i)), blob(1000 + i));
    }
    assertEquals(Map.of(), cas.putBatch(batch));
    assertEquals(batch, cas.getBatch(batch.keySet()));
    assertEquals(Set.of(), cas.findMissing(batch.keySet()));
    for (TestStores.Counting member : counted.values()) {
      assertTrue(member.putBatchCalls.size() <= 2, "one putBatch per rank: " + member.putBatchCalls.size());
      assertTrue(member.getBatchCalls.size() <= 1, "every blob found with its first owner");
      assertTrue(member.findMissingCalls.size() <= 2, "one findMissing per rank");
    }
    assertEquals(120, counted.values().stream().mapToLong(m -> m.putBatchCalls.stream().mapToLong(Collection::size).sum())
        .sum(), "each blob written to its two owners exactly");
  }
}
