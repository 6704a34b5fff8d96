package build.rex.storage.s3;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.Digests;
import build.rex.storage.ac.ActionKey;
import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import software.amazon.awssdk.services.s3.S3Client;

/** A bucket and key prefix, and where blobs and entries go inside it. */
public record S3Location(S3Client client, String bucket, String prefix) {
  String blobKey(Digest digest) {
    return prefix + "cas/" + digest.getHash() + "-" + digest.getSizeBytes();
  }

  String entryKey(ActionKey key) {
    String instance = Digests.of(ByteString.copyFrom(key.instanceName(), StandardCharsets.UTF_8)).getHash().substring(0, 16);
    return prefix + "ac/" + instance + "/" + key.actionDigest().getHash() + "-" + key.actionDigest().getSizeBytes();
  }
}
