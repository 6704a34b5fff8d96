package build.rex.storage.replication;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The layers over one membership: each call goes to the stores composed for the placement of
 * the moment it starts, and sees that one placement to its end (its owners, the others it asks
 * for stray copies, where it repairs), however the membership changes meanwhile. Layers that
 * each looked the placement up again could ask owners of one membership and strays of another,
 * and miss the member that holds the blob. Composed again when the placement changes.
 */
final class PlacedBlobStore implements BlobStore {
  private record Composed(Placement<BlobStore> placement, BlobStore store) {}

  private final Supplier<Placement<BlobStore>> placement;
  private final Function<Placement<BlobStore>, BlobStore> compose;
  private volatile Composed current;

  PlacedBlobStore(Supplier<Placement<BlobStore>> placement, Function<Placement<BlobStore>, BlobStore> compose) {
    this.placement = placement;
    this.compose = compose;
  }

  private BlobStore store() throws IOException {
    Placement<BlobStore> now = placement.get().requireMembers();
    Composed composed = current;
    if (composed == null || composed.placement() != now) {
      composed = new Composed(now, compose.apply(now));
      current = composed;
    }
    return composed.store();
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    return store().findMissing(digests);
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    return store().openRead(digest, offset);
  }

  @Override
  public BlobWriter newWriter(Digest digest) throws IOException {
    return store().newWriter(digest);
  }

  @Override
  public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
    return store().getBatch(digests);
  }

  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    BlobStore store;
    try {
      store = store();
    } catch (IOException e) {
      Map<Digest, IOException> failures = new HashMap<>();
      blobs.keySet().forEach(digest -> failures.put(digest, e));
      return failures;
    }
    return store.putBatch(blobs);
  }
}
