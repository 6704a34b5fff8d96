package build.rex.storage.service;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobResourceName;
import build.rex.storage.BlobStore;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.transfer.Batches;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The ByteStream service for CAS blobs: reads with offsets and limits, resumable writes,
 * duplicate uploads that end early, and zstd-compressed variants of both.
 */
public final class ByteStreamService extends ByteStreamGrpc.ByteStreamImplBase implements Closeable {
  static final int READ_CHUNK_BYTES = 1 << 20;
  private final BlobStore store;
  private final UploadSessions sessions;

  public ByteStreamService(BlobStore store, Duration uploadIdleTimeout) {
    this.store = store;
    this.sessions = new UploadSessions(uploadIdleTimeout);
  }

  @Override
  public void read(ReadRequest request, StreamObserver<ReadResponse> responseObserver) {
    ServerCallStreamObserver<ReadResponse> out = (ServerCallStreamObserver<ReadResponse>) responseObserver;
    try {
      BlobResourceName name = BlobResourceName.parseRead(request.getResourceName());
      long size = name.digest().getSizeBytes();
      if (request.getReadLimit() < 0) {
        throw new InvalidArgumentException("read_limit " + request.getReadLimit() + " is negative");
      }
      if (name.isCompressed() && request.getReadLimit() != 0) {
        throw new InvalidArgumentException("read_limit must be 0 when reading compressed-blobs");
      }
      if (request.getReadOffset() < 0 || request.getReadOffset() > size) {
        out.onError(Status.OUT_OF_RANGE.withDescription("read_offset " + request.getReadOffset()
            + " is outside the blob of " + size + " bytes").asRuntimeException());
        return;
      }
      long available = size - request.getReadOffset();
      long limit = request.getReadLimit() == 0 ? available : Math.min(available, request.getReadLimit());
      ChunkSource source = ChunkSource.raw(store.openRead(name.digest(), request.getReadOffset()), limit, READ_CHUNK_BYTES);
      if (name.isCompressed()) {
        source = ChunkSource.zstd(source);
      }
      ReadPump pump = new ReadPump(out, source);
      out.setOnCancelHandler(pump::cancel);
      out.setOnReadyHandler(pump);
      pump.run();
    } catch (InvalidArgumentException | IOException e) {
      out.onError(Statuses.exception(e));
    }
  }

  /** Sends chunks while the client keeps up, and resumes when it is ready again. */
  private static final class ReadPump implements Runnable {
    private final ServerCallStreamObserver<ReadResponse> out;
    private final ChunkSource source;
    private boolean finished;

    ReadPump(ServerCallStreamObserver<ReadResponse> out, ChunkSource source) {
      this.out = out;
      this.source = source;
    }

    @Override
    public synchronized void run() {
      try {
        while (!finished && out.isReady()) {
          var chunk = source.next();
          if (chunk == null) {
            finish();
            out.onCompleted();
            return;
          }
          out.onNext(ReadResponse.newBuilder().setData(chunk).build());
        }
      } catch (IOException e) {
        finish();
        out.onError(Statuses.exception(e));
      }
    }

    synchronized void cancel() {
      if (!finished) {
        finish();
      }
    }

    private void finish() {
      finished = true;
      try {
        source.close();
      } catch (IOException e) {
        // the stream is over either way
      }
    }
  }

  @Override
  public StreamObserver<WriteRequest> write(StreamObserver<WriteResponse> response) {
    return new WriteHandler(response);
  }

  /** One Write call; it may resume an interrupted upload of the same resource name. */
  private final class WriteHandler implements StreamObserver<WriteRequest> {
    private final StreamObserver<WriteResponse> response;
    private UploadSessions.Session session;
    private boolean done;

    WriteHandler(StreamObserver<WriteResponse> response) {
      this.response = response;
    }

    @Override
    public synchronized void onNext(WriteRequest request) {
      if (done) {
        return;
      }
      try {
        Digest whole = session == null ? wholeSmallBlob(request) : null;
        if (whole != null) {
          storeWhole(whole, request.getData());
          return;
        }
        if (session == null) {
          session = attach(request);
          if (session == null) {
            return; // the blob was already stored: answered early
          }
          session.owner = this::fail;
        } else if (!request.getResourceName().isEmpty() && !request.getResourceName().equals(session.resourceName)) {
          throw new InvalidArgumentException("resource_name changed within one Write call, from '"
              + session.resourceName + "' to '" + request.getResourceName() + "'");
        }
        synchronized (session) {
          if (request.getWriteOffset() != session.nextOffset()) {
            throw new InvalidArgumentException("write_offset " + request.getWriteOffset()
                + " does not continue the upload, which has " + session.nextOffset() + " bytes");
          }
          session.append(request.getData());
          if (session.writer.isComplete()) {
            sessions.end(session);
            finishEarly(session.name);
          } else if (request.getFinishWrite()) {
            session.writer.commit();
            long committed = session.nextOffset();
            sessions.end(session);
            complete(committed);
          }
        }
      } catch (InvalidArgumentException | IOException | RuntimeException e) {
        fail(e);
      }
    }

    /** Ends the call and the upload with an error; also called by the store between writes. */
    private synchronized void fail(Throwable error) {
      if (done) {
        return;
      }
      done = true;
      if (session != null) {
        sessions.end(session);
      }
      response.onError(Statuses.exception(error));
    }

    /**
     * The digest of the blob a first request carries whole, when it is small (how Bazel sends most
     * of its uploads), else null. Such a blob is stored as one batch write, which the store below
     * takes in one call (and skips if it holds the blob already), with no session and no check of
     * presence before it.
     */
    private Digest wholeSmallBlob(WriteRequest request) throws InvalidArgumentException {
      if (!request.getFinishWrite() || request.getWriteOffset() != 0 || request.getResourceName().isEmpty()
          || sessions.get(request.getResourceName()) != null) {
        return null;
      }
      BlobResourceName name = BlobResourceName.parseWrite(request.getResourceName());
      boolean whole = !name.isCompressed() && request.getData().size() == name.digest().getSizeBytes()
          && !Batches.streamed(name.digest().getSizeBytes());
      return whole ? name.digest() : null;
    }

    private void storeWhole(Digest digest, com.google.protobuf.ByteString data) throws IOException {
      IOException failed = store.putBatch(Map.of(digest, data)).get(digest);
      if (failed != null) {
        throw failed;
      }
      complete(digest.getSizeBytes());
    }

    /** Starts or resumes the upload the first request names; null when the blob is already stored. */
    private UploadSessions.Session attach(WriteRequest request) throws InvalidArgumentException, IOException {
      if (request.getResourceName().isEmpty()) {
        throw new InvalidArgumentException("the first WriteRequest of a call must set resource_name");
      }
      BlobResourceName name = BlobResourceName.parseWrite(request.getResourceName());
      UploadSessions.Session existing = sessions.get(request.getResourceName());
      if (existing != null) {
        return existing;
      }
      Digest digest = name.digest();
      if (store.findMissing(List.of(digest)).isEmpty()) {
        finishEarly(name);
        return null;
      }
      UploadSessions.Session created = new UploadSessions.Session(request.getResourceName(), name,
          store.newWriter(digest), request.getWriteOffset());
      if (!name.isCompressed() && request.getWriteOffset() != 0) {
        created.discard();
        throw new InvalidArgumentException("write_offset " + request.getWriteOffset()
            + " resumes an upload that this server does not know; start again at 0");
      }
      sessions.put(created);
      return created;
    }

    /** The blob is already stored: committed_size is its size, or -1 for a compressed upload. */
    private void finishEarly(BlobResourceName name) {
      complete(name.isCompressed() ? -1 : name.digest().getSizeBytes());
    }

    private void complete(long committedSize) {
      done = true;
      response.onNext(WriteResponse.newBuilder().setCommittedSize(committedSize).build());
      response.onCompleted();
    }

    @Override
    public synchronized void onError(Throwable t) {
      done = true; // the client went away; its session stays for a resumed upload
      if (session != null) {
        session.owner = null;
      }
    }

    @Override
    public synchronized void onCompleted() {
      if (!done) {
        done = true;
        response.onError(Status.INVALID_ARGUMENT
            .withDescription("the Write call ended without a request that sets finish_write").asRuntimeException());
      }
    }
  }

  @Override
  public void queryWriteStatus(QueryWriteStatusRequest request, StreamObserver<QueryWriteStatusResponse> response) {
    try {
      BlobResourceName name = BlobResourceName.parseWrite(request.getResourceName());
      UploadSessions.Session session = sessions.get(request.getResourceName());
      QueryWriteStatusResponse.Builder status = QueryWriteStatusResponse.newBuilder();
      if (session != null) {
        synchronized (session) {
          status.setCommittedSize(session.nextOffset()).setComplete(false);
        }
      } else if (store.findMissing(List.of(name.digest())).isEmpty()) {
        status.setCommittedSize(name.isCompressed() ? -1 : name.digest().getSizeBytes()).setComplete(true);
      } else {
        response.onError(Status.NOT_FOUND.withDescription("no upload of '" + request.getResourceName()
            + "' is in progress; start it again at offset 0").asRuntimeException());
        return;
      }
      response.onNext(status.build());
      response.onCompleted();
    } catch (InvalidArgumentException | IOException e) {
      response.onError(Statuses.exception(e));
    }
  }

  /** Uploads waiting to be resumed. */
  public int pendingUploads() {
    return sessions.size();
  }

  @Override
  public void close() {
    sessions.close();
  }
}
