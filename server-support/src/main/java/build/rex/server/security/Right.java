package build.rex.server.security;

import java.util.Locale;

/** What an identity may do on an instance: read the caches, write them (uploads too), run actions. */
public enum Right {
  READ, WRITE, EXECUTE;

  /** The name used in config files. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Right parse(String name) {
    for (Right right : values()) {
      if (right.configName().equals(name)) {
        return right;
      }
    }
    throw new IllegalArgumentException("unknown right '" + name + "'; use read, write or execute");
  }
}
