package build.rex.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ConfigLoaderTest {
  /** A small config shaped like the real ones. */
  public static final class Sample implements Validated {
    public Endpoint grpc = new Endpoint("0.0.0.0", 1234);
    public Section section = new Section();

    public static final class Section {
      public ByteSize size = ByteSize.parse("1Gi");
      public int count = 3;
    }

    @Override
    public void validate() {
      grpc.validate("grpc");
      Validated.require(section.count > 0, "section.count", "must be positive");
    }
  }

  @Test
  void anEmptyFileGivesTheDefaults() {
    Sample sample = ConfigLoader.parse("", Sample.class);
    assertEquals(1234, sample.grpc.port);
    assertEquals(1L << 30, sample.section.size.bytes());
  }

  @Test
  void readsNestedKeysAndSizesWithUnits() {
    Sample sample = ConfigLoader.parse("grpc: {port: 99}\nsection:\n  size: 512Mi\n  count: 7\n", Sample.class);
    assertEquals(99, sample.grpc.port);
    assertEquals("0.0.0.0", sample.grpc.host, "unset keys keep their defaults");
    assertEquals(512L << 20, sample.section.size.bytes());
    assertEquals(7, sample.section.count);
    assertEquals(4_000_000, ConfigLoader.parse("section: {size: 4MB}", Sample.class).section.size.bytes());
    assertEquals(4096, ConfigLoader.parse("section: {size: 4096}", Sample.class).section.size.bytes());
  }

  @Test
  void errorsNameTheKey() {
    assertMessage("'section.siz': unknown key; known keys here: [size, count]", "section: {siz: 1}");
    assertMessage("'section.size'", "section: {size: lots}");
    assertMessage("'section.count'", "section: {count: many}");
    assertMessage("'section.count': must be positive", "section: {count: 0}");
    assertMessage("'grpc.port': must be between 0 and 65535", "grpc: {port: 70000}");
  }

  private static void assertMessage(String expected, String yaml) {
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, Sample.class));
    assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' lacks " + expected);
  }

  @Test
  void writtenConfigReadsBackTheSame() {
    Sample sample = ConfigLoader.parse("grpc: {port: 5}\nsection: {size: 2Gi}", Sample.class);
    Sample again = ConfigLoader.parse(ConfigLoader.toYaml(sample), Sample.class);
    assertEquals(5, again.grpc.port);
    assertEquals(2L << 30, again.section.size.bytes());
  }
}
