package build.rex.server.security;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * JSON Web Tokens signed by a key in a JWKS file (reloaded when it changes): the signature, the
 * issuer, the audience and the expiry are all checked; the identity is one claim ({@code sub}
 * unless configured otherwise). A bearer token that is not a JWT is left to other authenticators.
 */
public final class JwtAuthenticator implements Authenticator {
  private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384,
      JWSAlgorithm.RS512, JWSAlgorithm.PS256, JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.EdDSA);
  private final ReloadingFile<DefaultJWTProcessor<SecurityContext>> processor;
  private final String identityClaim;

  public JwtAuthenticator(Path jwksFile, String issuer, String audience, String identityClaim) throws IOException {
    this.identityClaim = identityClaim;
    this.processor = new ReloadingFile<>(jwksFile, content -> processorFor(content, issuer, audience, identityClaim));
  }

  @Override
  public Optional<Identity> authenticate(Credentials credentials) throws AuthenticationException {
    if (!credentials.hasToken() || credentials.bearerToken().chars().filter(c -> c == '.').count() != 2) {
      return Optional.empty();
    }
    try {
      JWTClaimsSet claims = processor.get().process(credentials.bearerToken(), null);
      return Optional.of(new Identity(claims.getStringClaim(identityClaim), "jwt"));
    } catch (ParseException e) {
      throw new AuthenticationException("the bearer token is not a well-formed JWT");
    } catch (BadJOSEException e) {
      throw new AuthenticationException("the JWT was refused: " + e.getMessage());
    } catch (JOSEException e) {
      throw new AuthenticationException("the JWT's signature could not be checked: " + e.getMessage());
    }
  }

  private static DefaultJWTProcessor<SecurityContext> processorFor(byte[] jwks, String issuer, String audience,
      String identityClaim) throws ParseException {
    JWKSet keys = JWKSet.parse(new String(jwks, StandardCharsets.UTF_8));
    if (keys.getKeys().isEmpty()) {
      throw new ParseException("the JWKS holds no keys", 0);
    }
    DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
    processor.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, new ImmutableJWKSet<>(keys)));
    // exp is required, so a token without an expiry is refused rather than valid forever.
    processor.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(audience,
        new JWTClaimsSet.Builder().issuer(issuer).build(), new HashSet<>(Set.of("exp", identityClaim))));
    return processor;
  }
}
