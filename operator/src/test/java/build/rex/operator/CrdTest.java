package build.rex.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The CRD under crds/ (and in the chart) is what the build generates, and it accepts the examples. */
class CrdTest {
  static final Path CHART_CRD = Path.of("..", "helm", "rex-operator", "crds", "remoteexecutionclusters.rex.build-v1.yml");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void theCheckedInCrdIsWhatTheBuildGenerates() throws Exception {
    String generated = Files.readString(CrdFiles.GENERATED);
    String hint = "; after changing the api classes, copy " + CrdFiles.GENERATED + " to crds/ and helm/rex-operator/crds/";
    assertEquals(generated, Files.readString(MockKubernetes.CRD_FILE), "crds/ is stale" + hint);
    assertEquals(generated, Files.readString(CHART_CRD), "the chart's CRD is stale" + hint);
  }

  @Test
  void theCrdNamesTheResourceAsDocumented() throws Exception {
    var crd = CrdFiles.checkedIn();
    assertEquals("rex.build", crd.getSpec().getGroup());
    assertEquals("Namespaced", crd.getSpec().getScope());
    assertEquals(List.of("rec"), crd.getSpec().getNames().getShortNames());
    assertEquals("v1alpha1", crd.getSpec().getVersions().get(0).getName());
    assertTrue(crd.getSpec().getVersions().get(0).getSubresources().getStatus() != null, "status subresource");
  }

  @Test
  void theExamplesAreValid() throws Exception {
    for (String example : List.of("minimal.yaml", "full.yaml")) {
      assertEquals(Set.of(), validate(example(example)), example);
    }
  }

  @Test
  void theSchemaRefusesBadSpecs() throws Exception {
    assertRefused("/spec/workers/executors/0/count", 0, "minimum");
    assertRefused("/spec/workers/executors/0/memory", "lots", "pattern");
    assertRefused("/spec/tls/mode", "Magic", "pattern");
    assertRefused("/spec/schedulers/replicas", 0, "minimum");
    assertRefused("/spec/cas/replicationFactor", 9, "maximum");
    assertRefused("/spec/service/type", "Ingress", "pattern");
    assertRefused("/spec/auth/anonymous/0", "admin", "pattern");
    assertRefused("/spec/workers/sandbox", "Root", "pattern");
    assertRefused("/spec/workers/autoscale/minReplicas", 0, "minimum");
    assertRefused("/spec/workers/autoscale/scaleDownDelay", "ten minutes", "pattern");
    assertRefused("/spec/certificates/caValidity", "1y", "pattern");
  }

  private void assertRefused(String pointer, Object value, String keyword) throws Exception {
    JsonNode resource = example("full.yaml");
    String parent = pointer.substring(0, pointer.lastIndexOf('/'));
    String field = pointer.substring(pointer.lastIndexOf('/') + 1);
    JsonNode container = resource.at(parent);
    JsonNode node = YAML.valueToTree(value);
    if (container.isArray()) {
      ((com.fasterxml.jackson.databind.node.ArrayNode) container).set(Integer.parseInt(field), node);
    } else {
      ((ObjectNode) container).set(field, node);
    }
    Set<ValidationMessage> errors = validate(resource);
    assertTrue(errors.stream().anyMatch(e -> keyword.equals(e.getType())), pointer + "=" + value + " gave " + errors);
  }

  private static JsonNode example(String name) throws Exception {
    return YAML.readTree(Files.readString(Path.of("..", "crds", "examples", name)));
  }

  private static Set<ValidationMessage> validate(JsonNode resource) throws Exception {
    JsonNode schema = YAML.readTree(Files.readString(MockKubernetes.CRD_FILE))
        .at("/spec/versions/0/schema/openAPIV3Schema");
    JsonSchema validator = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(schema);
    return validator.validate(resource);
  }
}
