package build.rex.server.security;

import build.rex.pki.CertificateAuthority;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * Everything a cluster on one machine needs to run secured, made in one folder on first use and
 * reused while valid: a public CA with the server's certificate and a client certificate, a
 * bearer token (and the file of its hash), and a separate internal CA with the certificate the
 * cluster's own processes show each other. {@code rex local} and the tests use it.
 */
public final class LocalCertificates {
  /** The identity of the generated client certificate and token. */
  public static final String CLIENT_IDENTITY = "local-user";
  private static final Duration CA_VALIDITY = Duration.ofDays(3650);
  private static final Duration LEAF_VALIDITY = Duration.ofDays(365);
  private static final Duration RENEW_BEFORE = Duration.ofDays(30);
  private final Path dir;

  private LocalCertificates(Path dir) {
    this.dir = dir;
  }

  /** The certificates in {@code dir}, made now if any is missing or expires within 30 days. */
  public static LocalCertificates inFolder(Path dir) throws IOException {
    LocalCertificates certificates = new LocalCertificates(dir);
    if (!certificates.usable()) {
      certificates.create();
    }
    return certificates;
  }

  /** The CA clients trust the server by (Bazel's --tls_certificate); it also signs client certificates. */
  public Path caCertificate() {
    return dir.resolve("ca.crt");
  }

  public Path serverCertificate() {
    return dir.resolve("server.crt");
  }

  public Path serverKey() {
    return dir.resolve("server.key");
  }

  public Path clientCertificate() {
    return dir.resolve("client.crt");
  }

  public Path clientKey() {
    return dir.resolve("client.key");
  }

  /** The bearer token of {@link #CLIENT_IDENTITY}, in plain text for clients. */
  public Path token() {
    return dir.resolve("token");
  }

  /** The token of the admin ports (web UI, admin API), in plain text for people. */
  public Path adminToken() {
    return dir.resolve("admin-token");
  }

  /** The admin ports' tokens file ({@code admin.tokensFile}): the admin token's hash only. */
  public Path adminTokensFile() {
    return dir.resolve("admin-tokens.yaml");
  }

  /** The tokens file the scheduler reads: the token's hash only. */
  public Path tokensFile() {
    return dir.resolve("tokens.yaml");
  }

  public Path internalCaCertificate() {
    return dir.resolve("internal-ca.crt");
  }

  public Path internalCaKey() {
    return dir.resolve("internal-ca.key");
  }

  public Path caKey() {
    return dir.resolve("ca.key");
  }

  /** TLS for the public port with the generated server certificate. */
  public PublicTlsConfig publicTls() {
    PublicTlsConfig tls = new PublicTlsConfig();
    tls.certificateFile = serverCertificate().toString();
    tls.privateKeyFile = serverKey().toString();
    return tls;
  }

  /** Mutual TLS between the cluster's processes, all with the one internal certificate. */
  public InternalTlsConfig internalTls() {
    InternalTlsConfig tls = new InternalTlsConfig();
    tls.caFile = internalCaCertificate().toString();
    tls.certificateFile = dir.resolve("internal.crt").toString();
    tls.privateKeyFile = dir.resolve("internal.key").toString();
    return tls;
  }

  /** Client certificates from the public CA, the tokens file, and nothing anonymous. */
  public AuthConfig auth() {
    AuthConfig auth = new AuthConfig();
    auth.clientCertificates.caFile = caCertificate().toString();
    auth.tokens.file = tokensFile().toString();
    return auth;
  }

  private boolean usable() {
    List<Path> certificates = List.of(caCertificate(), serverCertificate(), clientCertificate(),
        internalCaCertificate(), Path.of(internalTls().certificateFile));
    try {
      for (Path file : certificates) {
        X509Certificate certificate = CertificateAuthority.readCertificate(file);
        if (certificate.getNotAfter().toInstant().isBefore(Instant.now().plus(RENEW_BEFORE))) {
          return false;
        }
      }
      return Files.exists(token()) && Files.exists(tokensFile()) && Files.exists(adminToken())
          && Files.exists(adminTokensFile());
    } catch (IOException e) {
      return false;
    }
  }

  private void create() throws IOException {
    Files.createDirectories(dir);
    CertificateAuthority ca = CertificateAuthority.create("rex local CA", CA_VALIDITY);
    ca.write(caCertificate(), caKey());
    ca.issue("localhost", List.of("localhost", "127.0.0.1", "::1"), LEAF_VALIDITY)
        .write(serverCertificate(), serverKey());
    ca.issue(CLIENT_IDENTITY, List.of(), LEAF_VALIDITY).write(clientCertificate(), clientKey());
    CertificateAuthority internal = CertificateAuthority.create("rex local internal CA", CA_VALIDITY);
    internal.write(internalCaCertificate(), internalCaKey());
    internal.issue("rex-internal", List.of("localhost", "127.0.0.1"), LEAF_VALIDITY)
        .write(Path.of(internalTls().certificateFile), Path.of(internalTls().privateKeyFile));
    writeToken(token(), tokensFile(), CLIENT_IDENTITY);
    writeToken(adminToken(), adminTokensFile(), "admin");
  }

  /** A new random token in {@code plain} (owner-only) and its hash, for {@code identity}, in {@code hashes}. */
  private static void writeToken(Path plain, Path hashes, String identity) throws IOException {
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    String token = HexFormat.of().formatHex(secret);
    CertificateAuthority.writePrivate(plain, token + "\n");
    Files.writeString(hashes, BearerTokenAuthenticator.render(
        List.of(new BearerTokenAuthenticator.Entry(identity, BearerTokenAuthenticator.sha256(token)))));
  }
}
