package build.rex.storage.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.Digests;
import com.google.protobuf.ByteString;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ConfirmedBlobsTest {
  private static final Duration TTL = Duration.ofSeconds(10);
  private final AtomicLong nanos = new AtomicLong(5_000_000_000L);
  private final ConfirmedBlobs confirmed = new ConfirmedBlobs(TTL, 1000, nanos::get);

  private static Digest digest(String text) {
    return Digests.of(ByteString.copyFromUtf8(text));
  }

  @Test
  void aConfirmationIsTrustedForItsTimeToLiveCountedFromWhenTheCallBegan() {
    Digest a = digest("a"), b = digest("b");
    long asked = confirmed.now();
    nanos.addAndGet(3_000_000_000L); // the call took 3 s
    confirmed.confirm(a, asked);

    assertEquals(List.of(b), confirmed.unconfirmed(List.of(a, b)));
    nanos.addAndGet(TTL.toNanos() - 3_000_000_000L);
    assertEquals(List.of(a, b), confirmed.unconfirmed(List.of(a, b)), "expired 10 s after the call began");
    assertEquals(1, confirmed.hits());
    assertEquals(3, confirmed.misses());
  }

  @Test
  void anOlderConfirmationDoesNotShortenANewerOne() {
    Digest a = digest("a");
    long early = confirmed.now();
    nanos.addAndGet(5_000_000_000L);
    confirmed.confirm(a, confirmed.now());
    confirmed.confirm(a, early); // a slow call that began earlier answers last

    nanos.addAndGet(6_000_000_000L);
    assertEquals(List.of(), confirmed.unconfirmed(List.of(a)));
  }

  @Test
  void forgettingOneOrAllTakesTheirConfirmationsBack() {
    Digest a = digest("a"), b = digest("b");
    confirmed.confirm(a, confirmed.now());
    confirmed.confirm(b, confirmed.now());

    confirmed.forget(a);
    assertEquals(List.of(a), confirmed.unconfirmed(List.of(a, b)));
    confirmed.forgetAll();
    assertEquals(List.of(a, b), confirmed.unconfirmed(List.of(a, b)));
  }

  @Test
  void theOldestConfirmationsMakeRoomForNewOnes() {
    ConfirmedBlobs small = new ConfirmedBlobs(TTL, 2, nanos::get);
    Digest a = digest("a"), b = digest("b"), c = digest("c");
    small.confirm(a, small.now());
    small.confirm(b, small.now());
    small.confirm(a, small.now()); // confirmed again: now the newest
    small.confirm(c, small.now());

    assertEquals(2, small.size());
    assertEquals(List.of(b), small.unconfirmed(List.of(a, b, c)));
  }

  @Test
  void aTimeToLiveOrSizeThatIsNotPositiveIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new ConfirmedBlobs(Duration.ZERO, 10, nanos::get));
    assertThrows(IllegalArgumentException.class, () -> new ConfirmedBlobs(TTL, 0, nanos::get));
  }
}
