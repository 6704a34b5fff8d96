package build.rex.config;

/** A config section that checks its own values after loading. */
public interface Validated {
  /** @throws ConfigException naming the first key whose value cannot be used */
  void validate();

  static void require(boolean condition, String key, String problem) {
    if (!condition) {
      throw new ConfigException(key, problem);
    }
  }

  /** A host:port address, as the components name each other. */
  static void requireHostPort(String value, String key) {
    require(value != null && value.matches("[^:\\s]+:\\d{1,5}"), key, "must be host:port, got '" + value + "'");
  }
}
