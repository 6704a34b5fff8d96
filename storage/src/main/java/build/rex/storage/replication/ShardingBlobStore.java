package build.rex.storage.replication;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sends each blob to the one store its {@link Shards} names, a batch as one call per store
 * (in parallel). A batch that some stores could not answer fails with a
 * {@link PartlyAnsweredException} holding what the others said.
 */
public final class ShardingBlobStore implements BlobStore {
  /** Which store holds a blob, decided at the time of each call. */
  public interface Shards {
    BlobStore of(Digest digest) throws IOException;
  }

  private final Shards shards;
  private final FanOut fanOut;

  ShardingBlobStore(Shards shards, FanOut fanOut) {
    this.shards = shards;
    this.fanOut = fanOut;
  }

  /** Digests by the store they go to. */
  private Map<BlobStore, Set<Digest>> split(Collection<Digest> digests) throws IOException {
    Map<BlobStore, Set<Digest>> parts = new LinkedHashMap<>();
    for (Digest digest : digests) {
      parts.computeIfAbsent(shards.of(digest), s -> new LinkedHashSet<>()).add(digest);
    }
    return parts;
  }

  /** Each shard's answer to its part of a batch; the parts of shards that failed are unanswered. */
  private record Answers<R>(List<R> values, Set<Digest> unanswered, IOException failure) {}

  private interface PartCall<R> {
    R apply(BlobStore shard, Set<Digest> part) throws IOException;
  }

  private <R> Answers<R> ask(Map<BlobStore, Set<Digest>> parts, PartCall<R> call) throws IOException {
    List<R> values = new ArrayList<>();
    Set<Digest> unanswered = new HashSet<>();
    IOException failure = null;
    for (var answer : fanOut.all(parts.keySet(), s -> call.apply(s, parts.get(s))).entrySet()) {
      if (answer.getValue().ok()) {
        values.add(answer.getValue().value());
      } else {
        unanswered.addAll(parts.get(answer.getKey()));
        failure = answer.getValue().failure();
      }
    }
    return new Answers<>(values, unanswered, failure);
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    // The empty blob is never missing: it needs no store.
    Answers<Set<Digest>> answers = ask(split(digests.stream().filter(d -> d.getSizeBytes() != 0).toList()),
        BlobStore::findMissing);
    Set<Digest> missing = new LinkedHashSet<>();
    answers.values().forEach(missing::addAll);
    if (answers.failure() != null) {
      throw PartlyAnsweredException.ofFindMissing(missing, answers.unanswered(), answers.failure());
    }
    return missing;
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    return shards.of(digest).openRead(digest, offset);
  }

  @Override
  public BlobWriter newWriter(Digest digest) throws IOException {
    return shards.of(digest).newWriter(digest);
  }

  @Override
  public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
    Answers<Map<Digest, ByteString>> answers = ask(split(digests), BlobStore::getBatch);
    Map<Digest, ByteString> found = new HashMap<>();
    answers.values().forEach(found::putAll);
    if (answers.failure() != null) {
      throw PartlyAnsweredException.ofGetBatch(found, answers.unanswered(), answers.failure());
    }
    return found;
  }

  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    Map<Digest, IOException> failures = new HashMap<>();
    Map<BlobStore, Map<Digest, ByteString>> parts = new LinkedHashMap<>();
    for (Map.Entry<Digest, ByteString> blob : blobs.entrySet()) {
      try {
        parts.computeIfAbsent(shards.of(blob.getKey()), s -> new HashMap<>()).put(blob.getKey(), blob.getValue());
      } catch (IOException e) {
        failures.put(blob.getKey(), e);
      }
    }
    try {
      fanOut.all(parts.keySet(), s -> s.putBatch(parts.get(s))).forEach((store, answer) -> {
        if (answer.ok()) {
          failures.putAll(answer.value());
        } else {
          parts.get(store).keySet().forEach(digest -> failures.put(digest, answer.failure()));
        }
      });
    } catch (java.io.InterruptedIOException e) {
      parts.values().forEach(part -> part.keySet().forEach(digest -> failures.put(digest, e)));
    }
    return failures;
  }
}
