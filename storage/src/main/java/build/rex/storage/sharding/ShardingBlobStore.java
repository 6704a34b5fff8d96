package build.rex.storage.sharding;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.ArrayList;

/** Spreads blobs over several stores by rendezvous hashing of their hash. */
public final class ShardingBlobStore implements BlobStore {
  private final Rendezvous<BlobStore> shards;

  public ShardingBlobStore(Map<String, BlobStore> shards) {
    this.shards = new Rendezvous<>(shards);
  }

  private BlobStore shardOf(Digest digest) {
    return shards.pick(digest.getHash());
  }

  private Map<BlobStore, List<Digest>> byShard(Collection<Digest> digests) {
    Map<BlobStore, List<Digest>> groups = new LinkedHashMap<>();
    for (Digest digest : digests) {
      groups.computeIfAbsent(shardOf(digest), s -> new ArrayList<>()).add(digest);
    }
    return groups;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    Set<Digest> missing = new HashSet<>();
    for (Map.Entry<BlobStore, List<Digest>> group : byShard(digests).entrySet()) {
      missing.addAll(group.getKey().findMissing(group.getValue()));
    }
    return missing;
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    return shardOf(digest).openRead(digest, offset);
  }

  @Override
  public BlobWriter newWriter(Digest digest) throws IOException {
    return shardOf(digest).newWriter(digest);
  }

  @Override
  public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
    Map<Digest, ByteString> found = new HashMap<>();
    for (Map.Entry<BlobStore, List<Digest>> group : byShard(digests).entrySet()) {
      found.putAll(group.getKey().getBatch(group.getValue()));
    }
    return found;
  }

  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    Map<Digest, IOException> failures = new HashMap<>();
    for (Map.Entry<BlobStore, List<Digest>> group : byShard(blobs.keySet()).entrySet()) {
      Map<Digest, ByteString> part = new HashMap<>();
      group.getValue().forEach(d -> part.put(d, blobs.get(d)));
      failures.putAll(group.getKey().putBatch(part));
    }
    return failures;
  }
}
