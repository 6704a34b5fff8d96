package build.rex.server.security;

import build.rex.config.ConfigException;

import build.rex.config.Validated;
import java.util.ArrayList;
import java.util.List;

/**
 * Client authentication and rights (scheduler.yaml {@code auth}). Any number of the three ways
 * may be on at once. The default lets no one in: a cluster must name at least one way, or grant
 * anonymous callers rights explicitly.
 */
public final class AuthConfig {
  /** Mutual TLS: clients show a certificate signed by this CA (PEM); the identity is its common name. */
  public ClientCertificates clientCertificates = new ClientCertificates();
  /** Static bearer tokens, kept as SHA-256 hashes in a file. */
  public Tokens tokens = new Tokens();
  /** JWTs signed by a key in a JWKS file. */
  public Jwt jwt = new Jwt();
  /** Rights of callers that show no credentials at all, e.g. [read]; empty: none. */
  public List<String> anonymous = List.of();
  /** Who may do what on which instance. The default: any authenticated identity may do everything. */
  public List<Grant> grants = new ArrayList<>(List.of(new Grant()));

  public static final class ClientCertificates {
    public String caFile = "";
  }

  public static final class Tokens {
    /** YAML list of {identity, sha256}; reloaded when it changes. */
    public String file = "";
  }

  public static final class Jwt {
    public String jwksFile = "";
    /** Required value of the iss claim. */
    public String issuer = "";
    /** Required value in the aud claim. */
    public String audience = "";
    /** The claim that names the identity. */
    public String identityClaim = "sub";
  }

  /** Rights given to some identities on some instances. */
  public static final class Grant {
    /** Identity names; "*" is any authenticated identity. */
    public List<String> identities = List.of("*");
    /** Instance names; "*" is every instance, "team/*" every instance under team/. */
    public List<String> instances = List.of("*");
    /** Any of read, write, execute. */
    public List<String> rights = List.of("read", "write", "execute");
  }

  public boolean anyAuthenticator() {
    return !clientCertificates.caFile.isEmpty() || !tokens.file.isEmpty() || !jwt.jwksFile.isEmpty();
  }

  public void validate(String key) {
    Validated.require(clientCertificates != null && tokens != null && jwt != null && anonymous != null && grants != null,
        key, "clientCertificates, tokens, jwt, anonymous and grants must not be null");
    Validated.require(anyAuthenticator() || !anonymous.isEmpty(), key,
        "no client could ever be let in: set " + key + ".clientCertificates.caFile, " + key + ".tokens.file or "
            + key + ".jwt.jwksFile, or grant rights to anonymous callers with " + key + ".anonymous (e.g. [read, write, execute])");
    if (!jwt.jwksFile.isEmpty()) {
      Validated.require(!jwt.issuer.isEmpty(), key + ".jwt.issuer", "must be set with jwt.jwksFile");
      Validated.require(!jwt.audience.isEmpty(), key + ".jwt.audience", "must be set with jwt.jwksFile");
      Validated.require(!jwt.identityClaim.isEmpty(), key + ".jwt.identityClaim", "must not be empty");
    }
    rights(anonymous, key + ".anonymous");
    for (int i = 0; i < grants.size(); i++) {
      Grant grant = grants.get(i);
      String at = key + ".grants[" + i + "]";
      Validated.require(grant != null && grant.identities != null && !grant.identities.isEmpty(), at + ".identities",
          "must name at least one identity or \"*\"");
      Validated.require(grant.instances != null && !grant.instances.isEmpty(), at + ".instances",
          "must name at least one instance or \"*\"");
      rights(grant.rights, at + ".rights");
    }
  }

  private static void rights(List<String> names, String key) {
    Validated.require(names != null, key, "must be a list");
    for (String name : names) {
      try {
        Right.parse(name);
      } catch (IllegalArgumentException e) {
        throw new build.rex.config.ConfigException(key, e.getMessage());
      }
    }
  }
}
