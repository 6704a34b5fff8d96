package build.rex.server.security;

import build.rex.config.Validated;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * TLS on the client-facing port (scheduler.yaml {@code tls}). The PEM files are usually a
 * mounted Kubernetes Secret; a renewed certificate is picked up within seconds, without a
 * restart and without touching open streams.
 */
public final class PublicTlsConfig {
  /** {@code tls} (the default), or {@code plaintext} where nothing untrusted can reach the port. */
  public String mode = "tls";
  /** The server's certificate chain (PEM), leaf first. */
  public String certificateFile = "";
  /** Its private key (PEM, PKCS#8: "BEGIN PRIVATE KEY"). */
  public String privateKeyFile = "";

  public boolean enabled() {
    return mode.equals("tls");
  }

  public void validate(String key) {
    Validated.require(mode != null && (mode.equals("tls") || mode.equals("plaintext")), key + ".mode",
        "must be tls or plaintext, got " + mode);
    if (enabled()) {
      requireFile(certificateFile, key + ".certificateFile", " (or set " + key + ".mode: plaintext)");
      requireFile(privateKeyFile, key + ".privateKeyFile", "");
    }
  }

  /** A PEM file that must exist when the server starts. */
  static void requireFile(String file, String key, String alternative) {
    Validated.require(file != null && !file.isEmpty(), key, "must be set" + alternative);
    Validated.require(Files.isReadable(Path.of(file)), key, "cannot read " + file);
  }
}
