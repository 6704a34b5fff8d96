package build.rex.storage.remote;

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.rex.storage.BlobCorruptException;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobResourceName;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.Digests;
import build.rex.storage.RemoteStorageException;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A blob store in another rex process (a worker), reached over the REAPI CAS and ByteStream
 * services. Small blobs travel in batches; large ones stream with flow control.
 */
public final class GrpcBlobStore implements BlobStore {
  /** Digests per FindMissingBlobs call; keeps each request far below gRPC's message limit. */
  static final int FIND_MISSING_BATCH = 10_000;
  /** Bytes of blob data per batch call, below the 4 MiB default message limit. */
  static final long MAX_BATCH_BYTES = build.rex.storage.transfer.Batches.MAX_BATCH_BYTES;
  private static final long UNARY_DEADLINE_SECONDS = 60;

  private final Channel channel;
  private final String target;

  public GrpcBlobStore(Channel channel, String target) {
    this.channel = channel;
    this.target = target;
  }

  private ContentAddressableStorageBlockingStub cas() {
    return ContentAddressableStorageGrpc.newBlockingStub(channel)
        .withDeadlineAfter(UNARY_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    Set<Digest> missing = new HashSet<>();
    List<Digest> all = digests.stream().filter(d -> !Digests.isEmpty(d)).toList(); // always present
    for (int from = 0; from < all.size(); from += FIND_MISSING_BATCH) {
      List<Digest> batch = all.subList(from, Math.min(all.size(), from + FIND_MISSING_BATCH));
      try {
        missing.addAll(cas().findMissingBlobs(
            FindMissingBlobsRequest.newBuilder().addAllBlobDigests(batch).build()).getMissingBlobDigestsList());
      } catch (StatusRuntimeException e) {
        throw failure(e);
      }
    }
    return missing;
  }

  @Override
  public Map<Digest, ByteString> getBatch(Collection<Digest> digests) throws IOException {
    Map<Digest, ByteString> found = new HashMap<>();
    List<Digest> nonEmpty = new ArrayList<>(digests.size());
    for (Digest digest : digests) {
      if (Digests.isEmpty(digest)) {
        found.put(digest, ByteString.EMPTY); // always present, never asked for (an empty input root, say)
      } else {
        nonEmpty.add(digest);
      }
    }
    for (List<Digest> group : groupBySize(nonEmpty, d -> d.getSizeBytes())) {
      if (group.size() == 1 && group.get(0).getSizeBytes() > MAX_BATCH_BYTES) {
        try {
          found.put(group.get(0), get(group.get(0)));
        } catch (BlobNotFoundException e) {
          // absent blobs are left out
        }
        continue;
      }
      BatchReadBlobsResponse response;
      try {
        response = cas().batchReadBlobs(BatchReadBlobsRequest.newBuilder().addAllDigests(group).build());
      } catch (StatusRuntimeException e) {
        throw failure(e);
      }
      for (BatchReadBlobsResponse.Response blob : response.getResponsesList()) {
        int code = blob.getStatus().getCode();
        if (code == Status.Code.OK.value()) {
          found.put(blob.getDigest(), blob.getData());
        } else if (code != Status.Code.NOT_FOUND.value() && code != Status.Code.DATA_LOSS.value()) {
          throw new RemoteStorageException(Status.fromCodeValue(code).withDescription(blob.getStatus().getMessage()));
        }
      }
    }
    return found;
  }

  @Override
  public Map<Digest, IOException> putBatch(Map<Digest, ByteString> blobs) {
    Map<Digest, IOException> failures = new HashMap<>();
    for (List<Digest> group : groupBySize(blobs.keySet(), d -> blobs.get(d).size())) {
      if (group.size() == 1 && blobs.get(group.get(0)).size() > MAX_BATCH_BYTES) {
        try {
          put(group.get(0), blobs.get(group.get(0)));
        } catch (IOException e) {
          failures.put(group.get(0), e);
        }
        continue;
      }
      BatchUpdateBlobsRequest.Builder request = BatchUpdateBlobsRequest.newBuilder();
      group.forEach(d -> request.addRequestsBuilder().setDigest(d).setData(blobs.get(d)));
      try {
        for (BatchUpdateBlobsResponse.Response blob : cas().batchUpdateBlobs(request.build()).getResponsesList()) {
          if (blob.getStatus().getCode() != Status.Code.OK.value()) {
            failures.put(blob.getDigest(), new RemoteStorageException(
                Status.fromCodeValue(blob.getStatus().getCode()).withDescription(blob.getStatus().getMessage())));
          }
        }
      } catch (StatusRuntimeException e) {
        group.forEach(d -> failures.put(d, failure(e)));
      }
    }
    return failures;
  }

  private static List<List<Digest>> groupBySize(Collection<Digest> digests,
      java.util.function.ToLongFunction<Digest> sizeOf) {
    return build.rex.storage.transfer.Batches.bySize(digests, sizeOf, MAX_BATCH_BYTES);
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    if (Digests.isEmpty(digest)) {
      return InputStream.nullInputStream();
    }
    Context.CancellableContext context = Context.current().withCancellation();
    ReadRequest request = ReadRequest.newBuilder()
        .setResourceName(BlobResourceName.read("", digest).format())
        .setReadOffset(offset)
        .build();
    Iterator<ReadResponse> responses;
    Context previous = context.attach(); // the call inherits the context, so close() can cancel it
    try {
      responses = ByteStreamGrpc.newBlockingStub(channel).read(request);
    } finally {
      context.detach(previous);
    }
    ByteStreamInputStream in = new ByteStreamInputStream(responses, context, digest);
    in.awaitFirstResponse();
    return in;
  }

  @Override
  public BlobWriter newWriter(Digest digest) throws IOException {
    return new ByteStreamBlobWriter(ByteStreamGrpc.newStub(channel), digest);
  }

  /** Translates a failed call into the exception a local store would have thrown. */
  static IOException failure(StatusRuntimeException e, Digest digest) {
    if (e.getStatus().getCode() == Status.Code.NOT_FOUND && digest != null) {
      return new BlobNotFoundException(digest);
    }
    if (e.getStatus().getCode() == Status.Code.DATA_LOSS && digest != null) {
      return BlobCorruptException.reported(digest, e.getStatus().getDescription());
    }
    return new RemoteStorageException(e.getStatus());
  }

  private static IOException failure(StatusRuntimeException e) {
    return failure(e, null);
  }

  @Override
  public String toString() {
    return "GrpcBlobStore(" + target + ")";
  }
}
