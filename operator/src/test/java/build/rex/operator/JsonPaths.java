package build.rex.operator;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Evaluates the kubectl JSONPath forms our printer columns use: .a.b and .list[?(@.k=="v")].field. */
final class JsonPaths {
  private static final Pattern FILTER = Pattern.compile("(\\w+)\\[\\?\\(@\\.(\\w+)==\"([^\"]*)\"\\)\\]");

  private JsonPaths() {}

  static String read(Object object, String path) {
    JsonNode node = Serialization.jsonMapper().valueToTree(object);
    for (String segment : path.substring(1).split("\\.(?![^\\[]*\\])")) {
      Matcher filter = FILTER.matcher(segment);
      if (filter.matches()) {
        JsonNode match = null;
        for (JsonNode item : node.path(filter.group(1))) {
          if (filter.group(3).equals(item.path(filter.group(2)).asText())) {
            match = item;
          }
        }
        if (match == null) {
          return null;
        }
        node = match;
      } else {
        node = node.path(segment);
      }
    }
    return node.isMissingNode() || node.isNull() ? null : node.asText();
  }
}
