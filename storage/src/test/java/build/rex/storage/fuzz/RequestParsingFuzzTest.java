package build.rex.storage.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobResourceName;
import build.rex.storage.Digests;
import build.rex.storage.InstanceNames;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.service.Requests;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * Digests and ByteStream resource names from hostile clients: parsing either succeeds with
 * something the rest of the server can use, or fails with InvalidArgumentException (which the
 * services turn into INVALID_ARGUMENT); nothing else escapes.
 */
class RequestParsingFuzzTest {
  private static final String HASH = Digests.of(new byte[] {1, 2, 3}).getHash();

  /** Valid names of every form, with up to three segments replaced by hostile ones. */
  @Provide
  Arbitrary<String> resourceNames() {
    Arbitrary<String> segment = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(6, Arbitraries.of("blobs", "uploads", "compressed-blobs", "zstd", "deflate", "identity",
            "sha256", HASH, HASH.toUpperCase(), HASH.substring(1), "3", "0", "-1", "99999999999999999999", "",
            "..", ".", "main", "operations", "u-1")),
        net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMaxLength(8)));
    Arbitrary<java.util.List<String>> templates = Arbitraries.of(
        "blobs/" + HASH + "/3", "main/blobs/" + HASH + "/3", "a/b/blobs/sha256/" + HASH + "/3",
        "compressed-blobs/zstd/" + HASH + "/3", "uploads/u-1/blobs/" + HASH + "/3",
        "main/uploads/u-1/compressed-blobs/zstd/" + HASH + "/3/meta/data", "uploads/u-1/blobs/" + HASH + "/3/x")
        .map(template -> java.util.List.of(template.split("/", -1)));
    Arbitrary<java.util.List<net.jqwik.api.Tuple.Tuple2<Integer, String>>> mutations = net.jqwik.api.Combinators
        .combine(Arbitraries.integers().between(0, 10), segment).as(net.jqwik.api.Tuple::of).list().ofMaxSize(3);
    return net.jqwik.api.Combinators.combine(templates, mutations).as((template, changes) -> {
      java.util.List<String> segments = new java.util.ArrayList<>(template);
      for (var change : changes) {
        if (change.get1() < segments.size()) {
          segments.set(change.get1(), change.get2());
        } else {
          segments.add(change.get2());
        }
      }
      return String.join("/", segments);
    });
  }

  @Property(tries = 20_000)
  void resourceNamesParseOrAreRejected(@ForAll("resourceNames") String name) {
    for (boolean write : new boolean[] {false, true}) {
      try {
        BlobResourceName parsed = write ? BlobResourceName.parseWrite(name) : BlobResourceName.parseRead(name);
        assertNull(Digests.problemWith(parsed.digest()), "an accepted name has a usable digest: " + name);
        InstanceNames.validate(parsed.instanceName());
        Statistics.label("outcome").collect("accepted");
      } catch (InvalidArgumentException e) {
        Statistics.label("outcome").collect("rejected");
      }
    }
  }

  @Property(tries = 20_000)
  void digestsAreUsableOrRejected(@ForAll("hashes") String hash, @ForAll long size) {
    Digest digest = Digest.newBuilder().setHash(hash).setSizeBytes(size).build();
    try {
      Requests.checkDigest("digest", digest);
      assertEquals(64, hash.length());
      assertEquals(hash, hash.replaceAll("[^0-9a-f]", ""), "only lowercase hex becomes a file name");
      Statistics.label("outcome").collect("accepted");
    } catch (InvalidArgumentException e) {
      Statistics.label("outcome").collect("rejected");
    }
  }

  @Provide
  Arbitrary<String> hashes() {
    return Arbitraries.oneOf(
        Arbitraries.strings().withChars("0123456789abcdef").ofLength(64),
        Arbitraries.strings().withChars("0123456789abcdefABCDEF./\0g").ofMinLength(62).ofMaxLength(66),
        Arbitraries.strings().ofMaxLength(70));
  }

  @Property(tries = 20_000)
  void instanceNamesAreUsableOrRejected(@ForAll("resourceNames") String instance) {
    try {
      InstanceNames.validate(instance);
      Statistics.label("outcome").collect("accepted");
    } catch (InvalidArgumentException e) {
      Statistics.label("outcome").collect("rejected");
    }
  }
}
