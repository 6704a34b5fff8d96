package build.rex.operator.scaling;

import java.util.List;
import java.util.Map;

/**
 * What the schedulers report of their work: actions waiting by the platform they ask for, and
 * executors by the platform they offer with how many are busy. Platforms are "name=value" pairs
 * joined by commas, as the schedulers' /api/cluster writes them.
 */
public record QueueLoad(List<Queued> queued, List<Executors> executors) {
  public record Queued(Map<String, String> platform, int count) {}

  public record Executors(Map<String, String> platform, int total, int busy) {}

  public static final QueueLoad NONE = new QueueLoad(List.of(), List.of());

  public int queuedTotal() {
    return queued.stream().mapToInt(Queued::count).sum();
  }

  public int busyTotal() {
    return executors.stream().mapToInt(Executors::busy).sum();
  }

  /** Busy executors that offer {@code name=value}. */
  public int busyWith(String name, String value) {
    return executors.stream().filter(e -> value.equals(e.platform().get(name))).mapToInt(Executors::busy).sum();
  }

  /** "OSFamily=linux,pool=default" as a map; "" is the empty platform. */
  public static Map<String, String> platform(String label) {
    Map<String, String> properties = new java.util.TreeMap<>();
    for (String pair : label.split(",")) {
      int equals = pair.indexOf('=');
      if (equals > 0) {
        properties.put(pair.substring(0, equals), pair.substring(equals + 1));
      }
    }
    return properties;
  }
}
