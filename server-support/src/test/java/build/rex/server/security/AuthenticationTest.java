package build.rex.server.security;

import build.rex.pki.CertificateAuthority;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each authenticator on its own, the chain's precedence, and the access policy's grants. */
class AuthenticationTest {
  @TempDir Path dir;

  @Test
  void bearerTokensAreMatchedByHashOnly() throws Exception {
    Path file = dir.resolve("tokens.yaml");
    Files.writeString(file, BearerTokenAuthenticator.render(
        List.of(new BearerTokenAuthenticator.Entry("ci", BearerTokenAuthenticator.sha256("s3cret")))));
    assertFalse(Files.readString(file).contains("s3cret"), "the file holds no token");
    BearerTokenAuthenticator tokens = new BearerTokenAuthenticator(file);
    assertEquals(new Identity("ci", "token"), tokens.authenticate(new Credentials("s3cret", List.of())).orElseThrow());
    assertTrue(tokens.authenticate(new Credentials("S3cret", List.of())).isEmpty());
    assertTrue(tokens.authenticate(new Credentials(null, List.of())).isEmpty());
  }

  @Test
  void aBadTokensFileStopsTheStartWithTheReason() throws Exception {
    Path file = dir.resolve("tokens.yaml");
    Files.writeString(file, "- identity: ci\n  sha256: not-a-hash\n");
    java.io.IOException e = assertThrows(java.io.IOException.class, () -> new BearerTokenAuthenticator(file));
    assertTrue(e.getMessage().contains("64 lowercase hex digits"), e.getMessage());
  }

  @Test
  void jwtsAreCheckedForSignatureIssuerAudienceAndExpiry() throws Exception {
    ECKey key = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    ECKey stranger = new ECKeyGenerator(Curve.P_256).keyID("k1").generate();
    Path jwks = dir.resolve("jwks.json");
    Files.writeString(jwks, new JWKSet(key.toPublicJWK()).toString());
    JwtAuthenticator jwt = new JwtAuthenticator(jwks, "https://issuer.example", "rex", "sub");
    Instant now = Instant.now();

    String good = sign(key, "https://issuer.example", "rex", "alice", now.plus(Duration.ofHours(1)));
    assertEquals(new Identity("alice", "jwt"), jwt.authenticate(new Credentials(good, List.of())).orElseThrow());
    for (String bad : List.of(
        sign(stranger, "https://issuer.example", "rex", "alice", now.plus(Duration.ofHours(1))),
        sign(key, "https://other.example", "rex", "alice", now.plus(Duration.ofHours(1))),
        sign(key, "https://issuer.example", "someone-else", "alice", now.plus(Duration.ofHours(1))),
        sign(key, "https://issuer.example", "rex", "alice", now.minus(Duration.ofHours(1))),
        sign(key, "https://issuer.example", "rex", "alice", null),
        "e30.e30.AAAA")) {
      assertThrows(AuthenticationException.class, () -> jwt.authenticate(new Credentials(bad, List.of())), bad);
    }
    assertTrue(jwt.authenticate(new Credentials("plain-token", List.of())).isEmpty(), "not a JWT: left to others");
  }

  @Test
  void aTokenDecidesEvenWhenACertificateIsAlsoShown() throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("test", Duration.ofDays(1));
    CertificateAuthority.Issued alice = ca.issue("alice", List.of(), Duration.ofDays(1));
    AuthenticationChain chain = new AuthenticationChain(List.of(
        credentials -> Optional.ofNullable("good".equals(credentials.bearerToken()) ? new Identity("bot", "token") : null),
        new ClientCertificateAuthenticator()));
    assertEquals("alice", chain.authenticate(new Credentials(null, List.of(alice.certificate()))).name());
    assertEquals("bot", chain.authenticate(new Credentials("good", List.of(alice.certificate()))).name());
    assertThrows(AuthenticationException.class,
        () -> chain.authenticate(new Credentials("bad", List.of(alice.certificate()))));
    assertSame(Identity.ANONYMOUS, chain.authenticate(new Credentials(null, List.of())));
  }

  @Test
  void grantsAreByIdentityAndInstancePattern() {
    AuthConfig config = new AuthConfig();
    config.anonymous = List.of("read");
    AuthConfig.Grant team = new AuthConfig.Grant();
    team.identities = List.of("alice");
    team.instances = List.of("team/*", "shared");
    team.rights = List.of("write");
    AuthConfig.Grant everyone = new AuthConfig.Grant();
    everyone.rights = List.of("read");
    config.grants = List.of(team, everyone);
    AccessPolicy policy = new AccessPolicy(config);
    Identity alice = new Identity("alice", "mtls");
    Identity bob = new Identity("bob", "token");
    Set<Right> write = EnumSet.of(Right.WRITE);
    assertTrue(policy.allows(alice, "team/a/b", write));
    assertTrue(policy.allows(alice, "shared", write));
    assertFalse(policy.allows(alice, "team", write), "team/* covers what is under team/, not team itself");
    assertFalse(policy.allows(alice, "teams/x", write));
    assertFalse(policy.allows(bob, "team/a", write));
    assertTrue(policy.allows(bob, "anything", EnumSet.of(Right.READ)), "* is any authenticated identity");
    assertTrue(policy.allows(Identity.ANONYMOUS, "", EnumSet.of(Right.READ)));
    assertFalse(policy.allows(Identity.ANONYMOUS, "", write));
    assertFalse(policy.allowsSomewhere(bob, Right.EXECUTE));
    assertTrue(policy.allowsSomewhere(alice, Right.WRITE));
  }

  @Test
  void limitsHoldPerIdentityAndAreGivenBack() {
    ClientLimits limits = new ClientLimits(2, 100);
    Identity alice = new Identity("alice", "token");
    ClientLimits.Lease first = limits.tryExecution(alice);
    ClientLimits.Lease second = limits.tryExecution(alice);
    assertTrue(first != null && second != null);
    assertEquals(null, limits.tryExecution(alice));
    assertTrue(limits.tryExecution(new Identity("bob", "token")) != null, "bob has his own share");
    first.release();
    first.release();
    assertEquals(1, limits.executionsHeld(alice), "a lease is given back once");
    ClientLimits.Lease big = limits.tryUpload(alice, 500);
    assertTrue(big != null, "one upload above the allowance goes through alone");
    assertEquals(null, limits.tryUpload(alice, 1));
    big.release();
    assertTrue(limits.tryUpload(alice, 60) != null);
  }

  @Test
  void requestsNameTheirInstance() {
    assertEquals("a/b", MethodRights.instanceOfResource("a/b/uploads/u/blobs/h/1"));
    assertEquals("", MethodRights.instanceOfResource("blobs/h/1"));
    assertEquals("x", MethodRights.instanceOfResource("x/compressed-blobs/zstd/h/1"));
    // Operation names begin with their instance: following one takes the right to execute there.
    assertEquals("team/a", MethodRights.instanceOf(build.bazel.remote.execution.v2.WaitExecutionRequest.newBuilder()
        .setName("team/a/operations/10.0.0.1:8981/" + "0".repeat(64) + "-1/id").build()));
    assertEquals("", MethodRights.instanceOf(com.google.longrunning.GetOperationRequest.newBuilder()
        .setName("operations/10.0.0.1:8981/" + "0".repeat(64) + "-1/id").build()));
    assertTrue(MethodRights.of("build.bazel.remote.execution.v2.Execution/WaitExecution").perInstance());
    assertEquals("main", MethodRights.instanceOf(build.bazel.remote.execution.v2.FindMissingBlobsRequest.newBuilder()
        .setInstanceName("main").build()));
    assertEquals(null, MethodRights.of("grpc.health.v1.Health/Check"), "methods not listed are closed");
  }

  private static String sign(ECKey key, String issuer, String audience, String subject, Instant expiry) throws Exception {
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder().issuer(issuer).audience(audience).subject(subject);
    if (expiry != null) {
      claims.expirationTime(Date.from(expiry));
    }
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(), claims.build());
    jwt.sign(new ECDSASigner(key));
    return jwt.serialize();
  }
}
