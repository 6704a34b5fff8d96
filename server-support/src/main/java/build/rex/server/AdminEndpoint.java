package build.rex.server;

import build.rex.config.Validated;
import build.rex.config.Endpoint;

/** The admin HTTP port, and who may use it beyond the probes and /metrics. */
public final class AdminEndpoint extends Endpoint {
  /**
   * Tokens whose bearers may use the admin API and web UI (the format of the client tokens file:
   * identities and SHA-256 hashes); empty: anyone who can reach the port.
   */
  public String tokensFile = "";

  public AdminEndpoint() {}

  public AdminEndpoint(String host, int port) {
    super(host, port);
  }

  @Override
  public void validate(String key) {
    super.validate(key);
    Validated.require(tokensFile != null, key + ".tokensFile", "must not be null (empty: no token needed)");
  }
}
