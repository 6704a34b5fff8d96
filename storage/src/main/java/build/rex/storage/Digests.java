package build.rex.storage;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Computing and validating SHA-256 digests, the one digest function rex serves today. */
public final class Digests {
  public static final DigestFunction.Value FUNCTION = DigestFunction.Value.SHA256;
  private static final int HASH_HEX_LENGTH = 64;
  private static final HexFormat HEX = HexFormat.of();

  public static final Digest EMPTY = of(ByteString.EMPTY);

  private Digests() {}

  public static MessageDigest newHasher() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  public static Digest of(ByteString data) {
    MessageDigest hasher = newHasher();
    data.asReadOnlyByteBufferList().forEach(hasher::update);
    return Digest.newBuilder().setHash(hex(hasher.digest())).setSizeBytes(data.size()).build();
  }

  public static Digest of(byte[] data) {
    return of(ByteString.copyFrom(data));
  }

  public static Digest of(Message message) {
    return of(message.toByteString());
  }

  public static Digest of(String hash, long size) {
    return Digest.newBuilder().setHash(hash).setSizeBytes(size).build();
  }

  public static String hex(byte[] hash) {
    return HEX.formatHex(hash);
  }

  public static boolean isEmpty(Digest digest) {
    return digest.getSizeBytes() == 0;
  }

  /** "hash/size", the form used in resource names and error subjects. */
  public static String toString(Digest digest) {
    return digest.getHash() + "/" + digest.getSizeBytes();
  }

  /**
   * Checks that a digest is well formed: a 64 character lowercase hex hash and a size that is not
   * negative. Returns null when it is, or what is wrong.
   */
  public static String problemWith(Digest digest) {
    String hash = digest.getHash();
    if (hash.length() != HASH_HEX_LENGTH) {
      return "hash '" + hash + "' has " + hash.length() + " characters; a SHA-256 hash has " + HASH_HEX_LENGTH;
    }
    if (!isHash(hash)) {
      return "hash '" + hash + "' is not lowercase hexadecimal";
    }
    if (digest.getSizeBytes() < 0) {
      return "size_bytes " + digest.getSizeBytes() + " is negative";
    }
    if (digest.getSizeBytes() == 0 && !hash.equals(EMPTY_HASH)) {
      return "size_bytes is 0 but hash '" + hash + "' is not the hash of the empty blob";
    }
    return null;
  }

  /** Whether {@code hash} is 64 lowercase hex digits: the only strings that may become file names. */
  public static boolean isHash(String hash) {
    if (hash.length() != HASH_HEX_LENGTH) {
      return false;
    }
    for (int i = 0; i < hash.length(); i++) {
      char c = hash.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  /** @throws InvalidArgumentException naming {@code field} when the digest is not well formed */
  public static void check(String field, Digest digest) throws InvalidArgumentException {
    String problem = problemWith(digest);
    if (problem != null) {
      throw new InvalidArgumentException(field + ": " + problem);
    }
  }

  /** Returns null when the digest function is one this server serves, or what is wrong. */
  public static String problemWith(DigestFunction.Value function) {
    if (function == DigestFunction.Value.UNKNOWN || function == FUNCTION) {
      return null;
    }
    return "digest function " + function + " is not supported; this server supports " + FUNCTION;
  }

  private static final String EMPTY_HASH =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  /**
   * Checks what an upload received against its digest; returns the hash.
   *
   * @throws DigestMismatchException when size or hash differ
   */
  public static String verify(Digest expected, java.security.MessageDigest hasher, long written)
      throws DigestMismatchException {
    String hash = hex(hasher.digest());
    if (written != expected.getSizeBytes() || !hash.equals(expected.getHash())) {
      throw new DigestMismatchException(expected, hash, written);
    }
    return hash;
  }
}
