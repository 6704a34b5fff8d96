package build.rex.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.DigestFunction;
import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

class DigestsTest {
  @Test
  void computesSha256OfContent() {
    assertEquals("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        Digests.of(ByteString.copyFromUtf8("hello")).getHash());
    assertEquals(5, Digests.of(ByteString.copyFromUtf8("hello")).getSizeBytes());
    assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Digests.EMPTY.getHash());
  }

  @Test
  void acceptsWellFormedDigests() {
    assertNull(Digests.problemWith(Digests.of(ByteString.copyFromUtf8("x"))));
    assertNull(Digests.problemWith(Digests.EMPTY));
  }

  @Test
  void namesWhatIsWrongWithMalformedDigests() {
    String good = Digests.of(ByteString.copyFromUtf8("x")).getHash();
    assertTrue(Digests.problemWith(Digests.of("abc", 1)).contains("3 characters"));
    assertTrue(Digests.problemWith(Digests.of(good.toUpperCase(), 1)).contains("not lowercase hexadecimal"));
    assertTrue(Digests.problemWith(Digests.of(good.replace(good.charAt(0), 'g'), 1)).contains("hexadecimal"));
    assertTrue(Digests.problemWith(Digests.of(good, -1)).contains("negative"));
    assertTrue(Digests.problemWith(Digests.of(good, 0)).contains("empty blob"));
  }

  @Test
  void onlySha256IsServed() {
    assertNull(Digests.problemWith(DigestFunction.Value.SHA256));
    assertNull(Digests.problemWith(DigestFunction.Value.UNKNOWN));
    assertNotNull(Digests.problemWith(DigestFunction.Value.BLAKE3));
  }
}
