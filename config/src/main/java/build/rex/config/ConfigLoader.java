package build.rex.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;

/**
 * Loads one component's YAML config into its typed config class. Every key has a default, so an
 * absent file or an empty one is a working config; unknown keys and bad values fail at start
 * with a message that names the key.
 */
public final class ConfigLoader {
  private static final ObjectMapper YAML = JsonMapper.builder(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .build();

  private ConfigLoader() {}

  public static <T extends Validated> T load(Path file, Class<T> type) {
    try {
      String text = file == null ? "" : Files.readString(file);
      return parse(text, type);
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + file + ": " + e.getMessage(), e);
    }
  }

  public static <T extends Validated> T parse(String yaml, Class<T> type) {
    T config;
    try {
      config = yaml.isBlank() ? YAML.readValue("{}", type) : YAML.readValue(yaml, type);
    } catch (JsonMappingException e) {
      String key = e.getPath().stream()
          .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
          .collect(Collectors.joining(".")).replace(".[", "[");
      String problem = e instanceof com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException unknown
          ? "unknown key; known keys here: " + unknown.getKnownPropertyIds()
          : e.getOriginalMessage();
      throw new ConfigException(key.isEmpty() ? "(top level)" : key, problem);
    } catch (IOException e) {
      throw new ConfigException("config is not valid YAML: " + e.getMessage(), e);
    }
    config.validate();
    return config;
  }

  /** Writes a config back as YAML, e.g. for the local cluster launcher. */
  public static String toYaml(Object config) {
    try {
      return YAML.writeValueAsString(config);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
