package build.rex.storage;

import build.bazel.remote.execution.v2.Digest;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Content-addressed blob storage. Implementations are small and compose: a disk store on a
 * worker, a remote store that talks to a worker over gRPC, and (later) stores that shard and
 * replicate across many of them.
 *
 * <p>Every store treats the empty blob as present.
 */
public interface BlobStore {

  /** Returns those of the digests that this store does not hold; the present ones are touched. */
  Set<Digest> findMissing(Collection<Digest> digests) throws IOException;

  /**
   * Opens a blob for reading from {@code offset}.
   *
   * @throws BlobNotFoundException when the blob is absent
   */
  InputStream openRead(Digest digest, long offset) throws IOException;

  /**
   * Starts writing a blob. The blob becomes visible only when {@link BlobWriter#commit()} has
   * verified its digest.
   *
   * @throws BlobTooLargeException when the blob can never fit
   */
  BlobWriter newWriter(Digest digest) throws IOException;

  /** Reads a whole blob into memory; for blobs known to be small. */
  default ByteString get(Digest digest) throws IOException {
    try (InputStream in = openRead(digest, 0)) {
      return ByteString.readFrom(in);
    }
  }

  /**
   * Reads many small blobs. Absent blobs are left out of the answer; any other failure fails the
   * whole call.
   */
  default Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
    Map<Digest, ByteString> found = new HashMap<>();
    for (Digest digest : digests) {
      try {
        found.put(digest, get(digest));
      } catch (BlobNotFoundException e) {
        // left out: the caller reports it per blob
      }
    }
    return found;
  }

  /** Writes many small blobs; returns the failures by digest (an empty map: all stored). */
  default Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    Map<Digest, IOException> failures = new HashMap<>();
    blobs.forEach((digest, data) -> {
      try {
        put(digest, data);
      } catch (IOException e) {
        failures.put(digest, e);
      }
    });
    return failures;
  }

  /** Writes a whole blob held in memory. */
  default void put(Digest digest, ByteString data) throws IOException {
    try (BlobWriter writer = newWriter(digest)) {
      if (writer.isComplete()) {
        return;
      }
      writer.write(data);
      writer.commit();
    }
  }
}
