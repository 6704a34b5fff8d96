package build.rex.storage.transfer;

import build.bazel.remote.execution.v2.Digest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * When to batch and when to stream, for every copy a process makes: blobs up to
 * {@link #STREAM_ABOVE} go in batches of at most {@link #MAX_BATCH_BYTES}, larger ones are
 * streamed. A copy of any number of blobs holds at most one batch in memory.
 */
public final class Batches {
  /** Larger blobs are streamed, in chunks of this size. */
  public static final int STREAM_ABOVE = 1 << 20;
  /** Bytes of one batch: well below gRPC's default 4 MiB message limit with framing. */
  public static final long MAX_BATCH_BYTES = 3 << 20;

  private Batches() {}

  public static boolean streamed(long sizeBytes) {
    return sizeBytes > STREAM_ABOVE;
  }

  /** Splits digests into groups of at most {@code maxBytes}; a larger blob gets a group of its own. */
  public static List<List<Digest>> bySize(Collection<Digest> digests, ToLongFunction<Digest> sizeOf, long maxBytes) {
    List<List<Digest>> groups = new ArrayList<>();
    List<Digest> current = new ArrayList<>();
    long currentBytes = 0;
    for (Digest digest : digests) {
      long size = sizeOf.applyAsLong(digest);
      if (size > maxBytes) {
        groups.add(List.of(digest));
        continue;
      }
      if (currentBytes + size > maxBytes && !current.isEmpty()) {
        groups.add(current);
        current = new ArrayList<>();
        currentBytes = 0;
      }
      current.add(digest);
      currentBytes += size;
    }
    if (!current.isEmpty()) {
      groups.add(current);
    }
    return groups;
  }

  /** As above, by the digests' own sizes, at most {@link #MAX_BATCH_BYTES} each. */
  public static List<List<Digest>> bySize(Collection<Digest> digests) {
    return bySize(digests, Digest::getSizeBytes, MAX_BATCH_BYTES);
  }
}
