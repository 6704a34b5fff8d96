package build.rex.operator.api;

import java.time.Duration;

/** Durations as the spec writes them ({@link RemoteExecutionClusterSpec#DURATION}). */
public final class Durations {
  private Durations() {}

  /** @throws IllegalArgumentException for text that is not such a duration */
  public static Duration parse(String text) {
    if (text == null || !text.matches(RemoteExecutionClusterSpec.DURATION)) {
      throw new IllegalArgumentException("'" + text + "' is not a duration such as 30s, 10m, 12h or 365d");
    }
    long amount = Long.parseLong(text.substring(0, text.length() - 1));
    return switch (text.charAt(text.length() - 1)) {
      case 's' -> Duration.ofSeconds(amount);
      case 'm' -> Duration.ofMinutes(amount);
      case 'h' -> Duration.ofHours(amount);
      default -> Duration.ofDays(amount);
    };
  }
}
