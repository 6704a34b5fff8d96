package build.rex.server.security;

import build.rex.config.Validated;

/**
 * Mutual TLS between the cluster's own processes: worker ports, the scheduler's internal port,
 * and the connections between them. Every process holds a certificate from the internal CA
 * and accepts only peers that do; nothing else can read, write or run anything there.
 */
public final class InternalTlsConfig {
  /** {@code mtls} (the default), or {@code plaintext} for a cluster on one trusted machine. */
  public String mode = "mtls";
  /** The internal CA (PEM): the only issuer whose certificates are accepted. */
  public String caFile = "";
  /** This process's certificate chain from that CA (PEM). */
  public String certificateFile = "";
  /** Its private key (PEM, PKCS#8). */
  public String privateKeyFile = "";

  public boolean enabled() {
    return mode.equals("mtls");
  }

  public void validate(String key) {
    Validated.require(mode != null && (mode.equals("mtls") || mode.equals("plaintext")), key + ".mode",
        "must be mtls or plaintext, got " + mode);
    if (enabled()) {
      PublicTlsConfig.requireFile(caFile, key + ".caFile", " (or set " + key + ".mode: plaintext)");
      PublicTlsConfig.requireFile(certificateFile, key + ".certificateFile", "");
      PublicTlsConfig.requireFile(privateKeyFile, key + ".privateKeyFile", "");
    }
  }
}
