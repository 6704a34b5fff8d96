package build.rex.scheduler.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.ac.ActionKey;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.NumericChars;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

/** Operation names carry their owner, instance and action, and nothing else parses as one. */
class OperationNameTest {
  private static final Digest ACTION = Digest.newBuilder().setHash("0f".repeat(32)).setSizeBytes(142).build();

  @Test
  void aNameSaysWhoOwnsItAndWhatItRuns() {
    OperationName name = OperationName.create(new ActionKey("team/linux", ACTION), "10.0.0.7:8981");
    String text = name.toString();
    assertTrue(text.startsWith("team/linux/operations/10.0.0.7:8981/" + ACTION.getHash() + "-142/"), text);
    assertEquals(name, OperationName.parse(text).orElseThrow());
    assertEquals(new ActionKey("team/linux", ACTION), OperationName.parse(text).orElseThrow().key());
    assertEquals("", OperationName.parse("operations/[::1]:8981/" + ACTION.getHash() + "-1/x").orElseThrow().instance());
  }

  @Test
  void otherNamesAreNotOperationsOfThisFormat() {
    for (String other : List.of("", "operations", "operations/cached-1234", "operations/h:1/x",
        "operations/h:1/" + ACTION.getHash() + "/id", "operations/h:1/" + ACTION.getHash() + "-1/",
        "operations/h:1/" + ACTION.getHash().toUpperCase() + "-1/id", "operations/h/1/" + ACTION.getHash() + "-1/id/more",
        "operations/h 1/" + ACTION.getHash() + "-1/id")) {
      assertTrue(OperationName.parse(other).isEmpty(), other);
    }
  }

  @Property(tries = 300)
  void everyNameParsesBackToItself(@ForAll @Size(max = 4) List<@AlphaChars @NumericChars @StringLength(min = 1, max = 8) String> instance,
      @ForAll @StringLength(min = 1, max = 12) @AlphaChars String host, @ForAll long size) {
    Digest action = ACTION.toBuilder().setSizeBytes(Math.abs(size % 1_000_000_000_000L)).build();
    OperationName name = OperationName.create(new ActionKey(String.join("/", instance), action), host + ":8981");
    assertEquals(name, OperationName.parse(name.toString()).orElseThrow());
  }
}
