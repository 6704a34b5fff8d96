package build.rex.storage.service;

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.FindMissingBlobsResponse;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import build.rex.storage.BlobStore;
import build.rex.storage.Digests;
import build.rex.storage.InvalidArgumentException;
import com.google.protobuf.ByteString;
import com.google.rpc.Code;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The REAPI ContentAddressableStorage service over any {@link BlobStore}. */
public final class CasService extends ContentAddressableStorageGrpc.ContentAddressableStorageImplBase {
  private final BlobStore store;
  private final CasSettings settings;
  private final TreeReader treeReader;

  public CasService(BlobStore store, CasSettings settings) {
    this.store = store;
    this.settings = settings;
    this.treeReader = new TreeReader(store);
  }

  @Override
  public void findMissingBlobs(FindMissingBlobsRequest request, StreamObserver<FindMissingBlobsResponse> response) {
    try {
      Requests.checkCommon(request.getInstanceName(), request.getDigestFunction());
      for (Digest digest : request.getBlobDigestsList()) {
        Requests.checkDigest("blob_digests", digest);
      }
      Set<Digest> missing = store.findMissing(request.getBlobDigestsList());
      response.onNext(FindMissingBlobsResponse.newBuilder().addAllMissingBlobDigests(missing).build());
      response.onCompleted();
    } catch (InvalidArgumentException | IOException e) {
      response.onError(Statuses.exception(e));
    }
  }

  @Override
  public void batchUpdateBlobs(BatchUpdateBlobsRequest request, StreamObserver<BatchUpdateBlobsResponse> response) {
    try {
      Requests.checkCommon(request.getInstanceName(), request.getDigestFunction());
      long total = request.getRequestsList().stream().mapToLong(r -> r.getData().size()).sum();
      checkBatchSize(total);
      Map<Digest, com.google.rpc.Status> results = new LinkedHashMap<>();
      Map<Digest, ByteString> accepted = new HashMap<>();
      for (BatchUpdateBlobsRequest.Request blob : request.getRequestsList()) {
        com.google.rpc.Status problem = checkUpload(blob);
        if (problem != null) {
          results.put(blob.getDigest(), problem);
        } else {
          try {
            accepted.put(blob.getDigest(), decompress(blob));
            results.put(blob.getDigest(), null);
          } catch (RuntimeException e) {
            results.put(blob.getDigest(), Statuses.invalidArgument("requests.data",
                "zstd data of blob " + Digests.toString(blob.getDigest()) + " could not be decompressed: " + e.getMessage()));
          }
        }
      }
      Map<Digest, IOException> failures = store.putBatch(accepted);
      BatchUpdateBlobsResponse.Builder out = BatchUpdateBlobsResponse.newBuilder();
      results.forEach((digest, problem) -> {
        com.google.rpc.Status status = problem != null ? problem
            : failures.containsKey(digest) ? Statuses.of(failures.get(digest)) : OK;
        out.addResponsesBuilder().setDigest(digest).setStatus(status);
      });
      response.onNext(out.build());
      response.onCompleted();
    } catch (InvalidArgumentException e) {
      response.onError(Statuses.exception(e));
    }
  }

  private static final com.google.rpc.Status OK = com.google.rpc.Status.newBuilder().setCode(Code.OK_VALUE).build();

  /** Checks one blob of a batch upload; null when it may be stored. */
  private com.google.rpc.Status checkUpload(BatchUpdateBlobsRequest.Request blob) {
    String problem = Digests.problemWith(blob.getDigest());
    if (problem != null) {
      return Statuses.invalidArgument("requests.digest", problem);
    }
    if (blob.getCompressor() != Compressor.Value.IDENTITY && blob.getCompressor() != Compressor.Value.ZSTD) {
      return Statuses.invalidArgument("requests.compressor", "compressor " + blob.getCompressor()
          + " is not supported for batch uploads; supported: ZSTD");
    }
    if (blob.getCompressor() == Compressor.Value.IDENTITY && blob.getData().size() != blob.getDigest().getSizeBytes()) {
      return Statuses.invalidArgument("requests.data", "blob " + Digests.toString(blob.getDigest()) + " came with "
          + blob.getData().size() + " bytes of data, not " + blob.getDigest().getSizeBytes());
    }
    return null;
  }

  private static ByteString decompress(BatchUpdateBlobsRequest.Request blob) {
    return blob.getCompressor() == Compressor.Value.ZSTD
        ? Zstd.decompress(blob.getData(), blob.getDigest().getSizeBytes())
        : blob.getData();
  }

  private void checkBatchSize(long total) throws InvalidArgumentException {
    if (total > settings.maxBatchTotalSizeBytes()) {
      throw new InvalidArgumentException("batch of " + total + " bytes exceeds max_batch_total_size_bytes ("
          + settings.maxBatchTotalSizeBytes() + "); send large blobs through ByteStream");
    }
  }

  @Override
  public void batchReadBlobs(BatchReadBlobsRequest request, StreamObserver<BatchReadBlobsResponse> response) {
    try {
      Requests.checkCommon(request.getInstanceName(), request.getDigestFunction());
      List<Digest> wellFormed = new ArrayList<>();
      BatchReadBlobsResponse.Builder out = BatchReadBlobsResponse.newBuilder();
      for (Digest digest : request.getDigestsList()) {
        String problem = Digests.problemWith(digest);
        if (problem != null) {
          out.addResponsesBuilder().setDigest(digest).setStatus(Statuses.invalidArgument("digests", problem));
        } else {
          wellFormed.add(digest);
        }
      }
      checkBatchSize(wellFormed.stream().mapToLong(Digest::getSizeBytes).sum());
      Map<Digest, ByteString> found = store.getBatch(wellFormed);
      for (Digest digest : wellFormed) {
        ByteString data = found.get(digest);
        if (data != null) {
          out.addResponsesBuilder().setDigest(digest).setData(data).setStatus(OK);
        } else {
          out.addResponsesBuilder().setDigest(digest).setStatus(Statuses.of(io.grpc.Status.Code.NOT_FOUND,
              "blob " + Digests.toString(digest) + " is not in the CAS"));
        }
      }
      response.onNext(out.build());
      response.onCompleted();
    } catch (InvalidArgumentException | IOException e) {
      response.onError(Statuses.exception(e));
    }
  }

  @Override
  public void getTree(GetTreeRequest request, StreamObserver<GetTreeResponse> response) {
    try {
      Requests.checkCommon(request.getInstanceName(), request.getDigestFunction());
      Requests.checkDigest("root_digest", request.getRootDigest());
      if (request.getPageSize() < 0) {
        throw new InvalidArgumentException("page_size " + request.getPageSize() + " is negative");
      }
      int pageSize = request.getPageSize() == 0
          ? settings.maxTreePageSize() : Math.min(request.getPageSize(), settings.maxTreePageSize());
      treeReader.stream(request.getRootDigest(), request.getPageToken(), pageSize, response::onNext);
      response.onCompleted();
    } catch (InvalidArgumentException | IOException e) {
      response.onError(Statuses.exception(e));
    }
  }
}
