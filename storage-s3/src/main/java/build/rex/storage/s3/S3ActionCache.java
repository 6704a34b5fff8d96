package build.rex.storage.s3;

import build.bazel.remote.execution.v2.ActionResult;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.ActionKey;
import java.io.IOException;
import java.util.Optional;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/** Action Cache entries as objects ({@code <prefix>ac/<instance>/<hash>-<size>}), each an encoded ActionResult. */
public final class S3ActionCache implements ActionCache {
  private final S3Location location;

  public S3ActionCache(S3Location location) {
    this.location = location;
  }

  @Override
  public Optional<ActionResult> get(ActionKey key) throws IOException {
    try {
      return Optional.of(ActionResult.parseFrom(location.client().getObjectAsBytes(GetObjectRequest.builder()
          .bucket(location.bucket()).key(location.entryKey(key)).build()).asByteArray()));
    } catch (SdkException e) {
      if (S3BlobStore.isNotFound(e)) {
        return Optional.empty();
      }
      throw S3BlobStore.failure("GET " + key, e);
    }
  }

  @Override
  public void put(ActionKey key, ActionResult result) throws IOException {
    try {
      location.client().putObject(PutObjectRequest.builder().bucket(location.bucket()).key(location.entryKey(key)).build(),
          RequestBody.fromBytes(result.toByteArray()));
    } catch (SdkException e) {
      throw S3BlobStore.failure("PUT " + key, e);
    }
  }
}
