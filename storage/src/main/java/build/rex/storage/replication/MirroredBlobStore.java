package build.rex.storage.replication;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps every blob in each of its mirrors. A write is acknowledged only once every mirror has
 * committed it. Reads go to the mirrors in order and stop at the first that has the blob; a
 * blob counts as present when any mirror holds it. Mirrors found lacking a blob another one
 * holds are given a copy by the {@link Repairer}, in the background.
 */
public final class MirroredBlobStore implements BlobStore {
  /** The mirrors at the moment of a call, first read first. */
  public interface Mirrors {
    List<BlobStore> current() throws IOException;
  }

  private final Mirrors mirrors;
  private final FanOut fanOut;
  private final Repairer repairer;

  MirroredBlobStore(Mirrors mirrors, FanOut fanOut, Repairer repairer) {
    this.mirrors = mirrors;
    this.fanOut = fanOut;
    this.repairer = repairer;
  }

  /** What a mirror said of one digest of a findMissing: missing, present, or (null) nothing. */
  private static Boolean missing(FanOut.Outcome<Set<Digest>> answer, Digest digest) {
    if (answer.ok()) {
      return answer.value().contains(digest);
    }
    if (answer.failure() instanceof PartlyAnsweredException partly && !partly.unanswered().contains(digest)) {
      return partly.missing().contains(digest);
    }
    return null;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    List<BlobStore> all = mirrors.current();
    Set<Digest> asked = new LinkedHashSet<>(digests);
    Map<BlobStore, FanOut.Outcome<Set<Digest>>> answers = fanOut.all(all, m -> m.findMissing(asked));
    Set<Digest> missing = new LinkedHashSet<>();
    for (Digest digest : asked) {
      BlobStore holder = null;
      List<BlobStore> lacking = new ArrayList<>();
      IOException failure = null;
      for (BlobStore mirror : all) {
        Boolean said = missing(answers.get(mirror), digest);
        if (said == null) {
          failure = answers.get(mirror).failure();
        } else if (said) {
          lacking.add(mirror);
        } else if (holder == null) {
          holder = mirror;
        }
      }
      if (holder != null) {
        repairer.repair(digest, holder, lacking);
      } else if (lacking.isEmpty()) {
        throw failure; // no mirror answered: present or not is unknown
      } else {
        missing.add(digest);
      }
    }
    return missing;
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    List<BlobStore> lacking = new ArrayList<>();
    IOException failure = null;
    for (BlobStore mirror : mirrors.current()) {
      try {
        InputStream in = mirror.openRead(digest, offset);
        repairer.repair(digest, mirror, lacking);
        return in;
      } catch (BlobNotFoundException e) { // a corrupt copy too: it was taken out, so it is lacking now
        lacking.add(mirror);
      } catch (IOException e) {
        failure = e;
      }
    }
    if (lacking.isEmpty() && failure != null) {
      throw failure;
    }
    throw new BlobNotFoundException(digest);
  }

  @Override
  public BlobWriter newWriter(Digest digest) throws IOException {
    List<BlobWriter> writers = new ArrayList<>();
    try {
      for (BlobStore mirror : mirrors.current()) {
        writers.add(mirror.newWriter(digest));
      }
    } catch (IOException | RuntimeException e) {
      for (BlobWriter opened : writers) {
        opened.close();
      }
      throw e;
    }
    return writers.size() == 1 ? writers.get(0) : new FanOutBlobWriter(writers, fanOut);
  }

  /** Asks the mirrors in turn for what is still wanted, so most of a batch costs one round. */
  @Override
  public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
    Map<Digest, ByteString> found = new HashMap<>();
    Set<Digest> wanted = new LinkedHashSet<>(digests);
    Map<Digest, List<BlobStore>> lacking = new HashMap<>();
    IOException failure = null;
    for (BlobStore mirror : mirrors.current()) {
      if (wanted.isEmpty()) {
        break;
      }
      Map<Digest, ByteString> got;
      Set<Digest> unanswered;
      try {
        got = mirror.getBatch(wanted);
        unanswered = Set.of();
      } catch (PartlyAnsweredException e) {
        got = e.found();
        unanswered = e.unanswered();
        failure = e;
      } catch (IOException e) {
        got = Map.of();
        unanswered = Set.copyOf(wanted);
        failure = e;
      }
      Set<Digest> stillWanted = new LinkedHashSet<>();
      for (Digest digest : wanted) {
        ByteString data = got.get(digest);
        if (data != null) {
          found.put(digest, data);
          repairer.repair(digest, mirror, lacking.getOrDefault(digest, List.of()));
        } else {
          if (!unanswered.contains(digest)) {
            lacking.computeIfAbsent(digest, d -> new ArrayList<>()).add(mirror);
          }
          stillWanted.add(digest);
        }
      }
      wanted = stillWanted;
    }
    wanted.removeIf(lacking::containsKey); // absent: some mirror said so
    if (!wanted.isEmpty()) {
      throw PartlyAnsweredException.ofGetBatch(found, wanted, failure);
    }
    return found;
  }

  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    Map<Digest, IOException> failures = new HashMap<>();
    try {
      fanOut.all(mirrors.current(), m -> m.putBatch(blobs)).forEach((mirror, answer) -> {
        if (answer.ok()) {
          failures.putAll(answer.value());
        } else {
          blobs.keySet().forEach(digest -> failures.put(digest, answer.failure()));
        }
      });
    } catch (IOException e) {
      blobs.keySet().forEach(digest -> failures.put(digest, e));
    }
    return failures;
  }
}
