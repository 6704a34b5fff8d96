package build.rex.storage.replication;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.RemoteStorageException;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds blobs where they no longer belong. A read its owners cannot serve asks the other
 * stores (members that own the blob no longer since the membership changed, and draining ones)
 * whether they hold a copy, reads that copy and has the {@link Repairer} put it back with the
 * owners. Writes and presence checks go to the owners only: a stray copy does not count as
 * stored.
 */
public final class StrayCopyLookup implements BlobStore {
  /** The stores that are not a blob's owners, at the moment of a call. */
  public interface Others {
    List<BlobStore> of(Digest digest) throws IOException;
  }

  private final BlobStore owners;
  private final Others others;
  private final FanOut fanOut;
  private final Repairer repairer;

  StrayCopyLookup(BlobStore owners, Others others, FanOut fanOut, Repairer repairer) {
    this.owners = owners;
    this.others = others;
    this.fanOut = fanOut;
    this.repairer = repairer;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    return owners.findMissing(digests);
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    try {
      return owners.openRead(digest, offset);
    } catch (IOException notWithTheOwners) {
      BlobStore stray = locate(List.of(digest)).get(digest);
      if (stray == null) {
        throw notWithTheOwners;
      }
      repairer.repair(digest, stray, List.of(owners));
      return stray.openRead(digest, offset);
    }
  }

  @Override
  public BlobWriter newWriter(Digest digest) throws IOException {
    return owners.newWriter(digest);
  }

  @Override
  public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
    Map<Digest, ByteString> found;
    Set<Digest> unanswered;
    try {
      found = new HashMap<>(owners.getBatch(digests));
      unanswered = Set.of();
    } catch (PartlyAnsweredException e) {
      found = new HashMap<>(e.found());
      unanswered = e.unanswered();
    }
    List<Digest> notFound = new ArrayList<>(new LinkedHashSet<>(digests));
    notFound.removeIf(found::containsKey);
    Map<Digest, BlobStore> strays = locate(notFound);
    for (Digest digest : notFound) {
      BlobStore stray = strays.get(digest);
      if (stray != null) {
        found.put(digest, stray.get(digest));
        repairer.repair(digest, stray, List.of(owners));
      } else if (unanswered.contains(digest)) {
        throw new RemoteStorageException(Status.UNAVAILABLE.withDescription(
            "no owner of " + digest.getHash() + " answered"));
      }
    }
    return found;
  }

  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    return owners.putBatch(blobs);
  }

  /** Asks each other store at once, in one call, which of the digests it holds; one holder per digest found. */
  private Map<Digest, BlobStore> locate(Collection<Digest> digests) throws IOException {
    Map<BlobStore, List<Digest>> asks = new LinkedHashMap<>();
    for (Digest digest : digests) {
      others.of(digest).forEach(store -> asks.computeIfAbsent(store, s -> new ArrayList<>()).add(digest));
    }
    Map<Digest, BlobStore> holders = new HashMap<>();
    fanOut.all(asks.keySet(), s -> s.findMissing(asks.get(s))).forEach((store, answer) -> {
      if (answer.ok()) {
        asks.get(store).stream().filter(d -> !answer.value().contains(d)).forEach(d -> holders.putIfAbsent(d, store));
      }
    });
    return holders;
  }
}
