package build.rex.config;

/** Where a server listens. */
public class Endpoint implements Validated {
  public String host = "0.0.0.0";
  public int port;

  public Endpoint() {}

  public Endpoint(String host, int port) {
    this.host = host;
    this.port = port;
  }

  /** Checks the values; {@code key} is where this endpoint sits in the config. */
  public void validate(String key) {
    Validated.require(host != null && !host.isBlank(), key + ".host", "must not be empty");
    Validated.require(port >= 0 && port <= 65535, key + ".port", "must be between 0 and 65535, got " + port);
  }

  @Override
  public void validate() {
    validate("endpoint");
  }

  /**
   * How peers reach this endpoint: {@code configured} when set, else the host if it is a
   * specific address (not a wildcard), else this machine's address; with the bound port.
   */
  public String advertised(String configured, int boundPort) throws java.io.IOException {
    if (configured != null && !configured.isEmpty()) {
      return configured;
    }
    String address = host;
    if (address.equals("0.0.0.0") || address.equals("::") || address.isEmpty()) {
      address = java.net.InetAddress.getLocalHost().getHostAddress();
    }
    return (address.contains(":") ? "[" + address + "]" : address) + ":" + boundPort;
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
