package build.rex.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.Digest;
import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

class BlobResourceNameTest {
  private static final Digest DIGEST = Digests.of(ByteString.copyFromUtf8("blob"));
  private static final String HASH_SIZE = DIGEST.getHash() + "/" + DIGEST.getSizeBytes();

  @Test
  void parsesReadNamesWithAndWithoutInstance() throws Exception {
    BlobResourceName plain = BlobResourceName.parseRead("blobs/" + HASH_SIZE);
    assertEquals("", plain.instanceName());
    assertEquals(DIGEST, plain.digest());
    assertNull(plain.uploadId());

    BlobResourceName nested = BlobResourceName.parseRead("team/a/blobs/" + HASH_SIZE);
    assertEquals("team/a", nested.instanceName());

    BlobResourceName compressed = BlobResourceName.parseRead("main/compressed-blobs/zstd/" + HASH_SIZE);
    assertEquals(Compressor.Value.ZSTD, compressed.compressor());
    assertEquals("main", compressed.instanceName());

    assertEquals(DIGEST, BlobResourceName.parseRead("blobs/sha256/" + HASH_SIZE).digest());
  }

  @Test
  void parsesWriteNamesWithMetadata() throws Exception {
    BlobResourceName name = BlobResourceName.parseWrite("inst/uploads/1234/blobs/" + HASH_SIZE + "/extra/meta");
    assertEquals("inst", name.instanceName());
    assertEquals("1234", name.uploadId());
    assertEquals(DIGEST, name.digest());
    assertEquals("inst/uploads/1234/blobs/" + HASH_SIZE, name.format());
  }

  @Test
  void rejectsMalformedNamesSayingWhy() {
    assertMessage("must have the form", () -> BlobResourceName.parseRead("nothing/" + HASH_SIZE));
    assertMessage("not a number", () -> BlobResourceName.parseRead("blobs/" + DIGEST.getHash() + "/ten"));
    assertMessage("must end in {hash}/{size}", () -> BlobResourceName.parseRead("blobs/" + HASH_SIZE + "/more"));
    assertMessage("negative", () -> BlobResourceName.parseRead("blobs/" + DIGEST.getHash() + "/-4"));
    assertMessage("characters", () -> BlobResourceName.parseRead("blobs/abcd/4"));
    assertMessage("supports: zstd", () -> BlobResourceName.parseRead("compressed-blobs/brotli/" + HASH_SIZE));
    assertMessage("not supported", () -> BlobResourceName.parseRead("blobs/blake3/" + HASH_SIZE));
    assertMessage("empty upload id", () -> BlobResourceName.parseWrite("uploads//blobs/" + HASH_SIZE));
    assertMessage("uploads/{uuid}", () -> BlobResourceName.parseWrite("blobs/" + HASH_SIZE));
  }

  @Test
  void rejectsInstanceNamesWithReservedSegments() {
    assertMessage("reserved segment 'uploads'", () -> BlobResourceName.parseRead("a/uploads/b/blobs/" + HASH_SIZE));
    assertMessage("reserved segment 'actionResults'", () -> InstanceNames.validate("x/actionResults"));
    assertMessage("reserved segment 'compressed-blobs'", () -> InstanceNames.validate("compressed-blobs"));
    assertMessage("empty, '.' or '..' segment", () -> InstanceNames.validate("a//b"));
    assertMessage("must not start or end", () -> InstanceNames.validate("/a"));
  }

  private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
    InvalidArgumentException e = assertThrows(InvalidArgumentException.class, call);
    assertTrue(e.getMessage().contains(expected), () -> "message '" + e.getMessage() + "' lacks '" + expected + "'");
  }
}
