package build.rex.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A size in bytes, written in config as a number or with a unit: 512Mi, 10Gi, 4MB, 1000. */
public record ByteSize(long bytes) {
  private static final Pattern FORMAT = Pattern.compile("(\\d+)\\s*([KMGT]i?|[kmgt]i?)?[Bb]?");

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public static ByteSize parse(String text) {
    Matcher m = FORMAT.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not a size; write e.g. 1000, 512Mi or 10Gi");
    }
    long value = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "" : m.group(2).toUpperCase(Locale.ROOT);
    long multiplier = switch (unit) {
      case "" -> 1L;
      case "K" -> 1_000L;
      case "KI" -> 1L << 10;
      case "M" -> 1_000_000L;
      case "MI" -> 1L << 20;
      case "G" -> 1_000_000_000L;
      case "GI" -> 1L << 30;
      case "T" -> 1_000_000_000_000L;
      case "TI" -> 1L << 40;
      default -> throw new IllegalArgumentException("unknown unit in '" + text + "'");
    };
    return new ByteSize(Math.multiplyExact(value, multiplier));
  }

  @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
  public static ByteSize ofBytes(long bytes) {
    return new ByteSize(bytes);
  }

  @JsonValue
  public long bytes() {
    return bytes;
  }
}
