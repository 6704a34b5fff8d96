package build.rex.storage;

import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A ByteStream resource name for a CAS blob, parsed or to be formatted:
 * <pre>
 *   read:  {instance}/blobs/{function/}{hash}/{size}
 *          {instance}/compressed-blobs/{compressor}/{function/}{hash}/{size}
 *   write: {instance}/uploads/{uuid}/blobs/{function/}{hash}/{size}{/metadata...}
 *          {instance}/uploads/{uuid}/compressed-blobs/{compressor}/{function/}{hash}/{size}{/metadata...}
 * </pre>
 * {@code uploadId} is null for reads.
 */
public record BlobResourceName(String instanceName, String uploadId, Compressor.Value compressor, Digest digest) {

  public boolean isCompressed() {
    return compressor != Compressor.Value.IDENTITY;
  }

  public static BlobResourceName parseRead(String name) throws InvalidArgumentException {
    List<String> segments = Arrays.asList(name.split("/", -1));
    int blobs = indexOfBlobsKeyword(segments, name);
    String instance = String.join("/", segments.subList(0, blobs));
    InstanceNames.validate(instance);
    return parseBlobPart(name, instance, null, segments.subList(blobs, segments.size()), false);
  }

  public static BlobResourceName parseWrite(String name) throws InvalidArgumentException {
    List<String> segments = Arrays.asList(name.split("/", -1));
    int uploads = segments.indexOf("uploads");
    if (uploads < 0 || uploads + 2 >= segments.size()) {
      throw new InvalidArgumentException("write resource name '" + name
          + "' must have the form {instance}/uploads/{uuid}/blobs/{hash}/{size}");
    }
    String instance = String.join("/", segments.subList(0, uploads));
    InstanceNames.validate(instance);
    String uuid = segments.get(uploads + 1);
    if (uuid.isEmpty()) {
      throw new InvalidArgumentException("write resource name '" + name + "' has an empty upload id");
    }
    return parseBlobPart(name, instance, uuid, segments.subList(uploads + 2, segments.size()), true);
  }

  private static int indexOfBlobsKeyword(List<String> segments, String name) throws InvalidArgumentException {
    for (int i = 0; i < segments.size(); i++) {
      if (segments.get(i).equals("blobs") || segments.get(i).equals("compressed-blobs")) {
        return i;
      }
    }
    throw new InvalidArgumentException("read resource name '" + name
        + "' must have the form {instance}/blobs/{hash}/{size} or {instance}/compressed-blobs/{compressor}/{hash}/{size}");
  }

  /** Parses from the "blobs" or "compressed-blobs" keyword on. */
  private static BlobResourceName parseBlobPart(String name, String instance, String uploadId,
      List<String> rest, boolean metadataAllowed) throws InvalidArgumentException {
    int i = 0;
    Compressor.Value compressor = Compressor.Value.IDENTITY;
    String keyword = rest.get(i++);
    if (keyword.equals("compressed-blobs")) {
      if (i >= rest.size()) {
        throw new InvalidArgumentException("resource name '" + name + "' names no compressor");
      }
      compressor = parseCompressor(rest.get(i++), name);
    } else if (!keyword.equals("blobs")) {
      throw new InvalidArgumentException("resource name '" + name + "' has '" + keyword
          + "' where 'blobs' or 'compressed-blobs' belongs");
    }
    if (i < rest.size() && isDigestFunctionName(rest.get(i))) {
      String function = rest.get(i++);
      String problem = Digests.problemWith(DigestFunction.Value.valueOf(function.toUpperCase(Locale.ROOT)));
      if (problem != null) {
        throw new InvalidArgumentException("resource name '" + name + "': " + problem);
      }
    }
    if (i + 2 > rest.size() || (!metadataAllowed && i + 2 != rest.size())) {
      throw new InvalidArgumentException("resource name '" + name + "' must end in {hash}/{size}"
          + (metadataAllowed ? " (optionally followed by metadata)" : ""));
    }
    String hash = rest.get(i);
    long size;
    try {
      size = Long.parseLong(rest.get(i + 1));
    } catch (NumberFormatException e) {
      throw new InvalidArgumentException("resource name '" + name + "' has size '" + rest.get(i + 1)
          + "', which is not a number");
    }
    Digest digest = Digests.of(hash, size);
    String problem = Digests.problemWith(digest);
    if (problem != null) {
      throw new InvalidArgumentException("resource name '" + name + "': " + problem);
    }
    return new BlobResourceName(instance, uploadId, compressor, digest);
  }

  private static boolean isDigestFunctionName(String segment) {
    for (DigestFunction.Value value : DigestFunction.Value.values()) {
      if (value != DigestFunction.Value.UNRECOGNIZED && value != DigestFunction.Value.UNKNOWN
          && value.name().toLowerCase(Locale.ROOT).equals(segment)) {
        return true;
      }
    }
    return false;
  }

  private static Compressor.Value parseCompressor(String segment, String name) throws InvalidArgumentException {
    if (segment.equals("zstd")) {
      return Compressor.Value.ZSTD;
    }
    throw new InvalidArgumentException("resource name '" + name + "' asks for compressor '" + segment
        + "'; this server supports: zstd");
  }

  /** Formats this name in the read or write form, depending on whether it has an upload id. */
  public String format() {
    StringBuilder out = new StringBuilder();
    if (!instanceName.isEmpty()) {
      out.append(instanceName).append('/');
    }
    if (uploadId != null) {
      out.append("uploads/").append(uploadId).append('/');
    }
    if (isCompressed()) {
      out.append("compressed-blobs/").append(compressor.name().toLowerCase(Locale.ROOT)).append('/');
    } else {
      out.append("blobs/");
    }
    return out.append(Digests.toString(digest)).toString();
  }

  public static BlobResourceName read(String instanceName, Digest digest) {
    return new BlobResourceName(instanceName, null, Compressor.Value.IDENTITY, digest);
  }

  public static BlobResourceName upload(String instanceName, String uploadId, Digest digest) {
    return new BlobResourceName(instanceName, uploadId, Compressor.Value.IDENTITY, digest);
  }
}
