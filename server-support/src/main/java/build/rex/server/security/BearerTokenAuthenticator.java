package build.rex.server.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Static bearer tokens. The file (a mounted Secret, reloaded when it changes) holds only SHA-256
 * hashes of the tokens, so reading it does not reveal them:
 *
 * <pre>
 * - identity: ci
 *   sha256: 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8
 * </pre>
 */
public final class BearerTokenAuthenticator implements Authenticator {
  /** One line of the tokens file. */
  public record Entry(String identity, String sha256) {}

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private final ReloadingFile<Map<String, String>> identitiesByHash;

  public BearerTokenAuthenticator(Path file) throws IOException {
    identitiesByHash = new ReloadingFile<>(file, BearerTokenAuthenticator::parse);
  }

  @Override
  public Optional<Identity> authenticate(Credentials credentials) {
    if (!credentials.hasToken()) {
      return Optional.empty();
    }
    String identity = identitiesByHash.get().get(sha256(credentials.bearerToken()));
    return Optional.ofNullable(identity).map(name -> new Identity(name, "token"));
  }

  public static String sha256(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The file's text for these identities and their tokens' hashes. */
  public static String render(List<Entry> entries) throws IOException {
    return YAML.writeValueAsString(entries);
  }

  static Map<String, String> parse(byte[] content) throws IOException {
    Entry[] entries = YAML.readValue(content, Entry[].class);
    Map<String, String> byHash = new HashMap<>();
    for (Entry entry : entries == null ? new Entry[0] : entries) {
      if (entry.identity() == null || entry.identity().isBlank()) {
        throw new IOException("every token needs an identity");
      }
      if (entry.sha256() == null || !entry.sha256().matches("[0-9a-f]{64}")) {
        throw new IOException("the token of '" + entry.identity() + "' needs sha256: 64 lowercase hex digits");
      }
      byHash.put(entry.sha256(), entry.identity());
    }
    return Map.copyOf(byHash);
  }
}
