package build.rex.storage.s3;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.Digests;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Blobs as objects in an S3-compatible bucket, one object per blob ({@code <prefix>cas/<hash>-<size>}).
 * Uploads are spooled to a local file and verified before the object is written, so the bucket
 * never holds a blob whose bytes do not match its name.
 */
public final class S3BlobStore implements BlobStore {
  private final S3Location location;
  private final Executor lookups;
  private final Path spool;

  /** @param lookups runs HEAD requests in parallel (S3 has no batch lookup) */
  public S3BlobStore(S3Location location, Executor lookups, Path spool) throws IOException {
    this.location = location;
    this.lookups = lookups;
    this.spool = Files.createDirectories(spool);
  }

  static boolean isNotFound(SdkException e) {
    return e instanceof NoSuchKeyException || (e instanceof S3Exception s3 && s3.statusCode() == 404);
  }

  static IOException failure(String what, SdkException e) {
    return new IOException("object storage: " + what + ": " + e.getMessage(), e);
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    Map<Digest, CompletableFuture<Boolean>> lookupsByDigest = new LinkedHashMap<>();
    for (Digest digest : digests) {
      if (!Digests.isEmpty(digest)) {
        lookupsByDigest.computeIfAbsent(digest, d -> CompletableFuture.supplyAsync(() -> exists(d), lookups));
      }
    }
    Set<Digest> missing = new HashSet<>();
    for (Map.Entry<Digest, CompletableFuture<Boolean>> lookup : lookupsByDigest.entrySet()) {
      try {
        if (!lookup.getValue().get()) {
          missing.add(lookup.getKey());
        }
      } catch (ExecutionException e) {
        throw new IOException("object storage: HEAD failed: " + e.getCause().getMessage(), e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while asking object storage");
      }
    }
    return missing;
  }

  private boolean exists(Digest digest) {
    try {
      location.client().headObject(HeadObjectRequest.builder().bucket(location.bucket()).key(location.blobKey(digest)).build());
      return true;
    } catch (SdkException e) {
      if (isNotFound(e)) {
        return false;
      }
      throw e;
    }
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    if (Digests.isEmpty(digest)) {
      return InputStream.nullInputStream();
    }
    GetObjectRequest.Builder request = GetObjectRequest.builder().bucket(location.bucket()).key(location.blobKey(digest));
    if (offset > 0) {
      request.range("bytes=" + offset + "-");
    }
    try {
      return location.client().getObject(request.build());
    } catch (SdkException e) {
      if (isNotFound(e)) {
        throw new BlobNotFoundException(digest);
      }
      throw failure("GET " + Digests.toString(digest), e);
    }
  }

  @Override
  public BlobWriter newWriter(Digest digest) throws IOException {
    return new SpooledWriter(digest, Files.createTempFile(spool, "upload", ".tmp"));
  }

  /** Bytes go to a spool file; commit verifies them and puts the object. */
  private final class SpooledWriter implements BlobWriter {
    private final Digest digest;
    private final Path file;
    private final OutputStream out;
    private final MessageDigest hash = Digests.newHasher();
    private long written;

    SpooledWriter(Digest digest, Path file) throws IOException {
      this.digest = digest;
      this.file = file;
      this.out = Files.newOutputStream(file);
    }

    @Override
    public void write(ByteString data) throws IOException {
      data.writeTo(out);
      hash.update(data.asReadOnlyByteBuffer());
      written += data.size();
    }

    @Override
    public long committedSize() {
      return written;
    }

    @Override
    public boolean isComplete() {
      return false;
    }

    @Override
    public void commit() throws IOException {
      out.close();
      Digests.verify(digest, hash, written);
      try {
        location.client().putObject(PutObjectRequest.builder().bucket(location.bucket()).key(location.blobKey(digest))
            .contentLength(written).build(), RequestBody.fromFile(file));
      } catch (SdkException e) {
        throw failure("PUT " + Digests.toString(digest), e);
      }
    }

    @Override
    public void close() throws IOException {
      out.close();
      Files.deleteIfExists(file);
    }
  }
}
