package build.rex.server;

import build.rex.config.ConfigLoader;
import build.rex.config.Validated;
import build.rex.config.ConfigException;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Assertions on config errors, shared by the components' config tests. */
public final class ConfigAssertions {
  private ConfigAssertions() {}

  /** Parsing {@code yaml} fails with a message that contains {@code expected}. */
  public static void assertRejected(Class<? extends Validated> type, String yaml, String expected) {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, type));
    assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' lacks " + expected);
  }
}
