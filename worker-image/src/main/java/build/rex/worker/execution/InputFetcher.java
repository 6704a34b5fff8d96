package build.rex.worker.execution;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.transfer.Batches;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Brings the blobs an action needs into this worker's own CAS, from the cluster's CAS: small ones
 * in bounded batches (an input tree of any size holds one batch in memory), large ones streamed.
 */
final class InputFetcher {
  private static final int STREAM_CHUNK = Batches.STREAM_ABOVE;
  private final BlobStore cluster;
  private final DiskBlobStore local;

  InputFetcher(BlobStore cluster, DiskBlobStore local) {
    this.cluster = cluster;
    this.local = local;
  }

  /** @throws BlobNotFoundException naming a blob the cluster does not have either */
  void fetch(Collection<Digest> digests) throws IOException {
    Set<Digest> missing = local.findMissingOrCorrupt(digests); // linked in place: no later read checks them
    List<Digest> small = new ArrayList<>();
    for (Digest digest : missing) {
      if (Batches.streamed(digest.getSizeBytes())) {
        stream(digest);
      } else {
        small.add(digest);
      }
    }
    for (List<Digest> group : Batches.bySize(small)) {
      Map<Digest, ByteString> found = cluster.getBatch(group);
      for (Digest digest : group) {
        if (!found.containsKey(digest)) {
          throw new BlobNotFoundException(digest);
        }
      }
      Map<Digest, IOException> failures = local.putBatch(found);
      if (!failures.isEmpty()) {
        throw failures.values().iterator().next();
      }
    }
  }

  private void stream(Digest digest) throws IOException {
    try (InputStream in = cluster.openRead(digest, 0); BlobWriter writer = local.newWriter(digest)) {
      if (writer.isComplete()) {
        return;
      }
      byte[] buffer = new byte[STREAM_CHUNK];
      for (int n; (n = in.read(buffer)) > 0; ) {
        writer.write(ByteString.copyFrom(buffer, 0, n));
      }
      writer.commit();
    }
  }
}
