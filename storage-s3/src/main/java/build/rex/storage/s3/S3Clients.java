package build.rex.storage.s3;

import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** Builds S3 clients that work with AWS and with S3-compatible servers (MinIO, Ceph, s3proxy). */
public final class S3Clients {
  private S3Clients() {}

  /**
   * @param endpoint empty for AWS itself
   * @param accessKeyId empty: the SDK's default chain (environment, instance profile, IRSA)
   */
  public static S3Client create(String endpoint, String region, boolean pathStyle, String accessKeyId,
      String secretAccessKey) {
    AwsCredentialsProvider credentials = accessKeyId.isEmpty()
        ? DefaultCredentialsProvider.create()
        : StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secretAccessKey));
    var builder = S3Client.builder()
        .region(Region.of(region))
        .forcePathStyle(pathStyle)
        .credentialsProvider(credentials)
        // Many S3-compatible servers reject the SDK's newer default checksum headers.
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    if (!endpoint.isEmpty()) {
      builder.endpointOverride(URI.create(endpoint));
    }
    return builder.build();
  }
}
