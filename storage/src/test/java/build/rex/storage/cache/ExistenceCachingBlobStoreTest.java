package build.rex.storage.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.Digests;
import build.rex.storage.ForwardingBlobStore;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two existence layers as the scheduler composes them: clients' calls through the recording
 * layer (always answered below), the scheduler's own checks through the caching layer over it.
 */
class ExistenceCachingBlobStoreTest {
  private static final Duration TTL = Duration.ofSeconds(10);
  @TempDir Path dir;
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private DiskBlobStore disk;
  private CountingPresence below;
  private ExistenceRecordingBlobStore clients;
  private ExistenceCachingBlobStore checks;

  @BeforeEach
  void setUp() throws IOException {
    disk = DiskBlobStore.open(dir, new DiskStoreSettings(1 << 30, 0.5, 0.9, false));
    below = new CountingPresence(disk);
    ConfirmedBlobs confirmed = new ConfirmedBlobs(TTL, 1000, nanos::get);
    clients = new ExistenceRecordingBlobStore(below, confirmed);
    checks = new ExistenceCachingBlobStore(clients, confirmed);
  }

  @Test
  void checksAskBelowOnlyForWhatWasNotConfirmedWithinTheTimeToLive() throws IOException {
    Digest present = stored("present");
    Digest absent = Digests.of(blob("absent"));

    assertEquals(Set.of(absent), checks.findMissing(List.of(present, absent)));
    nanos.addAndGet(TTL.toNanos() - 1);
    assertEquals(Set.of(absent), checks.findMissing(List.of(present, absent)));
    nanos.addAndGet(1);
    assertEquals(Set.of(), checks.findMissing(List.of(present)));

    assertEquals(List.of(List.of(present, absent), List.of(absent), List.of(present)), below.asked,
        "the absent blob is asked for each time, the present one again once its confirmation expired");
  }

  @Test
  void clientsAreAlwaysAnsweredBelowSoTheySeeAnEvictionAtOnce() throws IOException {
    Digest blob = stored("evicted right after");
    assertEquals(Set.of(), clients.findMissing(List.of(blob)));
    disk.isolate(blob, "gone, as an eviction under a full disk would leave it");

    assertEquals(Set.of(blob), clients.findMissing(List.of(blob)));
    assertEquals(Set.of(blob), checks.findMissing(List.of(blob)), "the client's answer told the checks too");
  }

  @Test
  void whatClientsWroteCountsAsConfirmedForTheChecks() throws IOException {
    ByteString put = blob("put"), streamed = blob("streamed"), batched = blob("batched");
    clients.put(Digests.of(put), put);
    try (BlobWriter writer = clients.newWriter(Digests.of(streamed))) {
      writer.write(streamed);
      writer.commit();
    }
    assertEquals(Map.of(), clients.putBatch(Map.of(Digests.of(batched), batched)));

    assertEquals(Set.of(), checks.findMissing(List.of(Digests.of(put), Digests.of(streamed), Digests.of(batched))));
    assertEquals(List.of(), below.asked, "nothing was asked below");
  }

  @Test
  void anUploadThatIsNotCommittedConfirmsNothing() throws IOException {
    ByteString data = blob("abandoned");
    try (BlobWriter writer = clients.newWriter(Digests.of(data))) {
      writer.write(data);
    }

    assertEquals(Set.of(Digests.of(data)), checks.findMissing(List.of(Digests.of(data))));
  }

  @Test
  void aReadThatFindsTheBlobGoneForgetsItsConfirmation() throws IOException {
    Digest once = stored("read singly");
    Digest other = stored("read in a batch");
    checks.findMissing(List.of(once, other));
    disk.isolate(once, "gone, as an eviction would leave it");
    disk.isolate(other, "gone too");

    assertThrows(BlobNotFoundException.class, () -> checks.get(once));
    assertEquals(Map.of(), checks.getBatch(List.of(other)));

    assertEquals(Set.of(once, other), checks.findMissing(List.of(once, other)), "both asked below again");
  }

  private Digest stored(String text) throws IOException {
    ByteString data = blob(text);
    disk.put(Digests.of(data), data);
    return Digests.of(data);
  }

  private static ByteString blob(String text) {
    return ByteString.copyFromUtf8("existence " + text);
  }

  /** Records every findMissing that reaches the store below. */
  private static final class CountingPresence extends ForwardingBlobStore {
    final List<List<Digest>> asked = new ArrayList<>();

    CountingPresence(BlobStore inner) {
      super(inner);
    }

    @Override
    public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
      asked.add(List.copyOf(digests));
      return inner.findMissing(digests);
    }
  }
}
