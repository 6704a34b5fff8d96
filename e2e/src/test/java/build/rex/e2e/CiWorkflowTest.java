package build.rex.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The hosted CI workflow (.github/workflows/ci.yml, which cannot run here) runs what README.md
 * documents: its suite job calls .ci/run, and .ci/run ends in README's test command; its kind
 * job runs KindClusterTest with a pinned kind and node image.
 */
class CiWorkflowTest {
  private static final Path REPO = RexLocal.REPO;

  private static List<String> runSteps(JsonNode job) {
    List<String> runs = new ArrayList<>();
    job.get("steps").forEach(step -> {
      if (step.has("run")) {
        runs.add(step.get("run").asText().strip());
      }
    });
    return runs;
  }

  /** The command in README's fenced block after "Run the whole test suite". */
  private static String readmeTestCommand() throws Exception {
    String readme = Files.readString(REPO.resolve("README.md"));
    Matcher m = Pattern.compile("Run the whole test suite.*?```sh\\n(.*?)\\n```", Pattern.DOTALL).matcher(readme);
    assertTrue(m.find(), "README.md documents the test command");
    return m.group(1).strip();
  }

  @Test
  void theSuiteJobRunsCiRunWhichRunsReadmesTestCommand() throws Exception {
    JsonNode workflow = new ObjectMapper(new YAMLFactory()).readTree(REPO.resolve(".github/workflows/ci.yml").toFile());
    JsonNode suite = workflow.get("jobs").get("suite");
    assertEquals("debian:bookworm", suite.get("container").get("image").asText(), "Debian, whose packages .ci/run installs");
    assertTrue(runSteps(suite).contains(".ci/run"), "the suite job calls .ci/run: " + runSteps(suite));
    List<String> ciRun = Files.readAllLines(REPO.resolve(".ci/run")).stream().map(String::strip)
        .filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
    assertEquals(readmeTestCommand(), ciRun.get(ciRun.size() - 1), ".ci/run ends with README's test command");
    assertTrue(workflow.get("jobs").get("suite").get("timeout-minutes").asInt() <= 90, "CI's limit");
  }

  @Test
  void theKindJobPinsKindAndItsNodeAndRunsKindClusterTest() throws Exception {
    JsonNode workflow = new ObjectMapper(new YAMLFactory()).readTree(REPO.resolve(".github/workflows/ci.yml").toFile());
    JsonNode kind = workflow.get("jobs").get("kind");
    assertTrue(kind.get("env").get("KIND_VERSION").asText().matches("v\\d+\\.\\d+\\.\\d+"), "kind pinned");
    assertTrue(kind.get("env").get("REX_KIND_NODE_IMAGE").asText().matches("kindest/node:v\\d+\\.\\d+\\.\\d+(@sha256:[0-9a-f]{64})?"),
        "the node image pinned");
    String steps = String.join("\n", runSteps(kind));
    assertTrue(steps.contains("kind-linux-amd64") && steps.contains("${KIND_VERSION}"), "kind downloaded at that version");
    assertTrue(steps.contains("mvn -B -DskipTests install"), "the build makes the images (profile images, on by default)");
    assertTrue(steps.contains("-Dtest=KindClusterTest"), "and runs KindClusterTest: " + steps);
  }
}
