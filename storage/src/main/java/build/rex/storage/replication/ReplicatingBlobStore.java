package build.rex.storage.replication;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobNotFoundException;
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
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Keeps every blob on the owners that {@link Placement} names (R of the cluster's members, by
 * rendezvous hashing). A write is acknowledged only once every owner has committed it. Reads try
 * the owners, then look for a stray copy on the other members (left by a membership change),
 * and have the {@link Repairer} put back a copy an owner lacks. A blob counts as present when
 * any owner holds it; owners that lack it are repaired in the background.
 */
public final class ReplicatingBlobStore implements BlobStore {
  private final Supplier<Placement<BlobStore>> placement;
  private final FanOut fanOut;
  private final Repairer repairer;

  /**
   * @param placement the members at the moment of each call (membership changes at any time)
   * @param calls runs calls to several members at once
   */
  public ReplicatingBlobStore(Supplier<Placement<BlobStore>> placement, Executor calls, Repairer repairer) {
    this.placement = placement;
    this.fanOut = new FanOut(calls);
    this.repairer = repairer;
  }

  private Placement<BlobStore> current() throws IOException {
    return placement.get().requireMembers();
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    Placement<BlobStore> members = current();
    Map<Digest, List<BlobStore>> ownersOf = new LinkedHashMap<>();
    Map<BlobStore, List<Digest>> asks = new LinkedHashMap<>();
    for (Digest digest : digests) {
      if (digest.getSizeBytes() == 0 || ownersOf.containsKey(digest)) {
        continue;
      }
      List<BlobStore> owners = members.owners(digest.getHash());
      ownersOf.put(digest, owners);
      owners.forEach(owner -> asks.computeIfAbsent(owner, o -> new ArrayList<>()).add(digest));
    }
    Map<BlobStore, FanOut.Outcome<Set<Digest>>> answers = fanOut.all(asks.keySet(), s -> s.findMissing(asks.get(s)));
    Set<Digest> missing = new LinkedHashSet<>();
    for (Map.Entry<Digest, List<BlobStore>> entry : ownersOf.entrySet()) {
      Digest digest = entry.getKey();
      BlobStore holder = null;
      List<BlobStore> lacking = new ArrayList<>();
      IOException failure = null;
      for (BlobStore owner : entry.getValue()) {
        FanOut.Outcome<Set<Digest>> answer = answers.get(owner);
        if (!answer.ok()) {
          failure = answer.failure();
        } else if (answer.value().contains(digest)) {
          lacking.add(owner);
        } else if (holder == null) {
          holder = owner;
        }
      }
      if (holder != null) {
        repairer.repair(digest, holder, lacking);
      } else if (lacking.isEmpty()) {
        throw failure; // no owner answered: present or not is unknown
      } else {
        missing.add(digest);
      }
    }
    return missing;
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    Placement<BlobStore> members = current();
    List<BlobStore> lacking = new ArrayList<>();
    IOException failure = null;
    for (BlobStore owner : members.owners(digest.getHash())) {
      try {
        InputStream in = owner.openRead(digest, offset);
        repairer.repair(digest, owner, lacking);
        return in;
      } catch (BlobNotFoundException e) {
        lacking.add(owner);
      } catch (IOException e) {
        failure = e;
      }
    }
    BlobStore stray = locate(digest, members.others(digest.getHash()));
    if (stray != null) {
      repairer.repair(digest, stray, lacking);
      return stray.openRead(digest, offset);
    }
    if (lacking.isEmpty() && failure != null) {
      throw failure;
    }
    throw new BlobNotFoundException(digest);
  }

  /** Asks every one of {@code candidates} at once whether it holds the blob; returns one that does. */
  private BlobStore locate(Digest digest, List<BlobStore> candidates) throws IOException {
    if (candidates.isEmpty()) {
      return null;
    }
    Map<BlobStore, FanOut.Outcome<Set<Digest>>> answers = fanOut.all(candidates, s -> s.findMissing(List.of(digest)));
    for (Map.Entry<BlobStore, FanOut.Outcome<Set<Digest>>> answer : answers.entrySet()) {
      if (answer.getValue().ok() && !answer.getValue().value().contains(digest)) {
        return answer.getKey();
      }
    }
    return null;
  }

  @Override
  public BlobWriter newWriter(Digest digest) throws IOException {
    List<BlobWriter> writers = new ArrayList<>();
    try {
      for (BlobStore owner : current().owners(digest.getHash())) {
        writers.add(owner.newWriter(digest));
      }
    } catch (IOException | RuntimeException e) {
      for (BlobWriter opened : writers) {
        opened.close();
      }
      throw e;
    }
    return writers.size() == 1 ? writers.get(0) : new FanOutBlobWriter(writers, fanOut);
  }

  @Override
  public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
    Placement<BlobStore> members = current();
    Map<Digest, ByteString> found = new HashMap<>();
    List<Digest> wanted = new ArrayList<>(new LinkedHashSet<>(digests));
    Map<Digest, List<BlobStore>> lacking = new HashMap<>();
    for (int rank = 0; rank < members.replicas() && !wanted.isEmpty(); rank++) {
      Map<BlobStore, List<Digest>> asks = new LinkedHashMap<>();
      for (Digest digest : wanted) {
        asks.computeIfAbsent(members.owners(digest.getHash()).get(rank), o -> new ArrayList<>()).add(digest);
      }
      Map<BlobStore, FanOut.Outcome<Map<Digest, ByteString>>> answers = fanOut.all(asks.keySet(), s -> s.getBatch(asks.get(s)));
      List<Digest> stillWanted = new ArrayList<>();
      for (Map.Entry<BlobStore, List<Digest>> ask : asks.entrySet()) {
        FanOut.Outcome<Map<Digest, ByteString>> answer = answers.get(ask.getKey());
        for (Digest digest : ask.getValue()) {
          ByteString data = answer.ok() ? answer.value().get(digest) : null;
          if (data != null) {
            found.put(digest, data);
            repairer.repair(digest, ask.getKey(), lacking.getOrDefault(digest, List.of()));
          } else {
            if (answer.ok()) {
              lacking.computeIfAbsent(digest, d -> new ArrayList<>()).add(ask.getKey());
            }
            stillWanted.add(digest);
          }
        }
      }
      wanted = stillWanted;
    }
    for (Digest digest : wanted) {
      BlobStore stray = locate(digest, members.others(digest.getHash()));
      if (stray != null) {
        found.put(digest, stray.get(digest));
        repairer.repair(digest, stray, lacking.getOrDefault(digest, List.of()));
      } else if (!lacking.containsKey(digest)) {
        throw new RemoteStorageException(Status.UNAVAILABLE.withDescription(
            "no owner of " + digest.getHash() + " answered"));
      }
    }
    return found;
  }

  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    Map<Digest, IOException> failures = new HashMap<>();
    Placement<BlobStore> members;
    try {
      members = current();
    } catch (IOException e) {
      blobs.keySet().forEach(digest -> failures.put(digest, e));
      return failures;
    }
    Map<BlobStore, Map<Digest, ByteString>> parts = new LinkedHashMap<>();
    blobs.forEach((digest, data) -> members.owners(digest.getHash())
        .forEach(owner -> parts.computeIfAbsent(owner, o -> new HashMap<>()).put(digest, data)));
    try {
      fanOut.all(parts.keySet(), s -> s.putBatch(parts.get(s))).forEach((store, answer) -> {
        if (answer.ok()) {
          failures.putAll(answer.value());
        } else {
          parts.get(store).keySet().forEach(digest -> failures.put(digest, answer.failure()));
        }
      });
    } catch (java.io.InterruptedIOException e) {
      blobs.keySet().forEach(digest -> failures.put(digest, e));
    }
    return failures;
  }
}
