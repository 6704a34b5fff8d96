package build.rex.server;

/** A config section that checks its own values after loading. */
public interface Validated {
  /** @throws ConfigException naming the first key whose value cannot be used */
  void validate();

  static void require(boolean condition, String key, String problem) {
    if (!condition) {
      throw new ConfigException(key, problem);
    }
  }
}
