package build.rex.operator.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RotatingAuthorityTest {
  private static final RotatingAuthority.Policy POLICY =
      new RotatingAuthority.Policy(Duration.ofDays(100), Duration.ofDays(10), Duration.ofMinutes(5));
  private static final Instant T0 = Instant.now();

  private static RotatingAuthority step(RotatingAuthority state, Instant at) {
    return RotatingAuthority.advance(state.secretData(), "internal-", "rex test CA", POLICY, at);
  }

  @Test
  void eachStepWaitsItsTimeAndTheSecretCarriesTheState() {
    RotatingAuthority fresh = RotatingAuthority.advance(null, "internal-", "rex test CA", POLICY, T0);
    assertEquals(RotatingAuthority.Phase.STABLE, fresh.phase());
    assertEquals(T0.plus(Duration.ofDays(90)).getEpochSecond(), fresh.nextStepAt(POLICY).getEpochSecond(), 1);
    assertEquals(fresh.signer().certificate(), step(fresh, T0.plus(Duration.ofDays(89))).signer().certificate());

    RotatingAuthority introducing = step(fresh, T0.plus(Duration.ofDays(90)));
    assertEquals(RotatingAuthority.Phase.INTRODUCING, introducing.phase());
    assertEquals(fresh.signer().certificate(), introducing.signer().certificate(), "the old CA still signs");
    assertEquals(2, introducing.trusted().size());
    assertEquals(RotatingAuthority.Phase.INTRODUCING,
        step(introducing, T0.plus(Duration.ofDays(90)).plus(Duration.ofMinutes(4))).phase(), "within the overlap");

    RotatingAuthority retiring = step(introducing, T0.plus(Duration.ofDays(90)).plus(Duration.ofMinutes(5)));
    assertEquals(RotatingAuthority.Phase.RETIRING, retiring.phase());
    assertEquals(introducing.next().certificate(), retiring.signer().certificate(), "the new CA signs");
    assertEquals(fresh.signer().certificate(), retiring.previous());
    assertNotEquals(fresh.signer().certificate().getSubjectX500Principal(),
        retiring.signer().certificate().getSubjectX500Principal(), "two CAs trusted side by side have their own names");

    RotatingAuthority done = step(retiring, T0.plus(Duration.ofDays(90)).plus(Duration.ofMinutes(10)));
    assertEquals(RotatingAuthority.Phase.STABLE, done.phase());
    assertEquals(1, done.trusted().size());
    assertNull(done.secretData().get("internal-previous-ca.crt"));
    assertEquals(retiring.signer().certificate(), done.signer().certificate());
  }

  @Test
  void anUnreadableSecretGivesANewCaAndOtherPrefixesAreLeftAlone() {
    Map<String, String> data = new HashMap<>(RotatingAuthority.advance(null, "", "rex public", POLICY, T0).secretData());
    RotatingAuthority kept = RotatingAuthority.advance(data, "", "rex public", POLICY, T0.plusSeconds(60));
    assertEquals(RotatingAuthority.read(data, "").signer().certificate(), kept.signer().certificate());
    assertNull(RotatingAuthority.read(data, "internal-"), "the internal CA is kept under its own keys");
    data.put("ca.key", RotatingAuthority.encode("not a key"));
    assertNull(RotatingAuthority.read(data, ""));
    assertNotEquals(kept.signer().certificate(), RotatingAuthority.advance(data, "", "rex public", POLICY, T0).signer().certificate());
    assertSame(RotatingAuthority.Phase.STABLE, RotatingAuthority.advance(data, "", "rex public", POLICY, T0).phase());
  }
}
