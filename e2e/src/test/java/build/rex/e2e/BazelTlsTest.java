package build.rex.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.rex.server.security.LocalCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Bazel 4.2.3 against {@code bin/rex local --tls}: over TLS with the client certificate,
 * then with a bearer token header, and without credentials, when it must fail with an
 * authentication error rather than hang.
 */
class BazelTlsTest {
  @TempDir static Path scratch;
  private static Bazel bazel;

  @BeforeAll
  static void requireBazel() throws Exception {
    Bazel.assumeInstalled();
    Assumptions.assumeTrue(Bazel.debianTcnative() != null,
        "SKIPPED: Debian's Bazel needs libnetty-tcnative-jni for TLS (.ci/run installs it)");
    bazel = new Bazel(scratch.resolve("workspace")).withTls();
  }

  @AfterAll
  static void stopBazel() throws Exception {
    if (bazel != null) {
      bazel.shutdown();
    }
  }

  private static Bazel.Run build(String executor, List<String> credentials) throws Exception {
    List<String> args = new ArrayList<>(List.of("build", "//exec:all"));
    args.addAll(Bazel.flags(executor));
    args.addAll(credentials);
    return bazel.run(args.toArray(String[]::new));
  }

  @Test
  void bazelBuildsOverTlsWithAClientCertificateOrATokenAndIsRefusedWithNeither() throws Exception {
    try (RexLocal cluster = RexLocal.start(scratch.resolve("rex-data"), "--tls")) {
      assertTrue(cluster.output.toString().contains("--tls_client_certificate="), "the launcher prints the flags");
      LocalCertificates certificates = cluster.certificates();
      String executor = "--remote_executor=grpcs://127.0.0.1:" + cluster.port;
      String trust = "--tls_certificate=" + certificates.caCertificate();

      Bazel.Run withCertificate = build(executor, List.of(trust,
          "--tls_client_certificate=" + certificates.clientCertificate(),
          "--tls_client_key=" + certificates.clientKey()));
      assertEquals(0, withCertificate.exitCode(), withCertificate.output());
      Map<String, Integer> processes = withCertificate.processes();
      assertTrue(processes.getOrDefault("remote", 0) > 0, "actions ran on rex: " + processes);

      assertEquals(0, bazel.run("clean").exitCode());
      String token = Files.readString(certificates.token()).trim();
      Bazel.Run withToken = build(executor, List.of(trust, "--remote_header=Authorization=Bearer " + token));
      assertEquals(0, withToken.exitCode(), withToken.output());
      assertTrue(Set.of("remote cache hit", "internal").containsAll(withToken.processes().keySet()),
          "the token's identity reads what the certificate's wrote: " + withToken.processes());

      assertEquals(0, bazel.run("clean").exitCode());
      Bazel.Run withNothing = build(executor, List.of(trust));
      assertNotEquals(0, withNothing.exitCode(), withNothing.output());
      assertTrue(withNothing.output().contains("UNAUTHENTICATED"), "an authentication error:\n" + withNothing.output());

      Bazel.Run withWrongToken = build(executor, List.of(trust, "--remote_header=Authorization=Bearer guessed"));
      assertNotEquals(0, withWrongToken.exitCode(), withWrongToken.output());
      assertTrue(withWrongToken.output().contains("UNAUTHENTICATED"), withWrongToken.output());
    }
  }
}
