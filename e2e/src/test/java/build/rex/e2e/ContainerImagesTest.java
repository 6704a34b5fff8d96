package build.rex.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.rex.launcher.PodmanImage;
import build.rex.operator.OperatorRunScenario;
import build.rex.operator.OperatorSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container images the build made (profile "images"), run under podman: the scheduler and
 * worker images serve a real Bazel build ({@code bin/rex local --images}), and the operator
 * image reconciles a cluster against the API server its kubeconfig names. Skipped, saying so,
 * where podman or the images are missing.
 */
class ContainerImagesTest {
  @TempDir static Path scratch;
  private static Map<String, String> podman;
  private static String missing;

  @BeforeAll
  static void checkPodmanAndImages() throws Exception {
    missing = Podman.missing();
    if (missing != null) {
      System.err.println("ContainerImagesTest SKIPPED: " + missing);
    }
    podman = Podman.environment(scratch);
  }

  /** Each test, so that the report counts them as skipped, with the reason. */
  @BeforeEach
  void requirePodmanAndImages() {
    Assumptions.assumeTrue(missing == null, "SKIPPED: " + missing);
  }

  @Test
  void bazelRunsActionsOnTheSchedulerAndWorkerImages() throws Exception {
    Bazel.assumeInstalled();
    Bazel bazel = new Bazel(scratch.resolve("bazel"));
    try (RexLocal cluster = RexLocal.start(scratch.resolve("rex-data"), podman, "--images")) {
      assertTrue(cluster.output.toString().contains("from their container images"), cluster.output.toString());
      String prefix = "rex-local-" + cluster.port + "-";
      assertEquals(Set.of(prefix + "scheduler-0", prefix + "worker-0"), Set.copyOf(Podman.running(prefix)),
          "the servers run in containers");

      Bazel.Run test = bazel.runAgainst("--remote_executor=" + cluster.target(), "test", "//exec:tree_test");
      assertEquals(0, test.exitCode(), test.output());
      Map<String, Integer> processes = test.processes();
      assertTrue(processes.getOrDefault("remote", 0) >= 2, "the tree action and the test ran remotely: " + processes);
      assertTrue(Set.of("remote", "internal").containsAll(processes.keySet()), "nothing ran locally: " + processes);

      assertEquals(0, cluster.stop(), cluster.output.toString());
      assertEquals(List.of(), Podman.running(prefix), "the containers are gone after the launcher stopped");
    } finally {
      bazel.shutdown();
    }
  }

  /** The operator deploys the scheduler and worker images, and the chart the operator image, by these names. */
  @Test
  void theImagesHaveTheNamesTheOperatorAndTheChartUse() throws Exception {
    OperatorSettings defaults = new OperatorSettings();
    assertEquals(defaults.schedulerImage, PodmanImage.load(Podman.SCHEDULER_IMAGE));
    assertEquals(defaults.workerImage, PodmanImage.load(Podman.WORKER_IMAGE));
    var yaml = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
    Path chart = RexLocal.REPO.resolve("helm/rex-operator");
    String repository = yaml.readTree(chart.resolve("values.yaml").toFile()).path("image").path("repository").asText();
    String appVersion = yaml.readTree(chart.resolve("Chart.yaml").toFile()).path("appVersion").asText();
    assertEquals(repository + ":" + appVersion, PodmanImage.load(Podman.OPERATOR_IMAGE));
  }

  @Test
  void theOperatorImageRunsAgainstTheKubeconfigsApiServer(@TempDir Path dir) throws Exception {
    String image = PodmanImage.load(Podman.OPERATOR_IMAGE);
    OperatorRunScenario.verify(dir, (kubeconfig, config, log) -> {
      // As the chart runs it: restricted (no capabilities, no new privileges, a read-only root).
      // Named per run: two suites on one machine must not replace each other's container.
      String name = "rex-operator-image-test-" + ProcessHandle.current().pid();
      List<String> command = List.of("podman", "run", "--rm", "--name", name, "--replace",
          "--network", "host", "--volume", dir + ":" + dir + ":ro", "--env", "KUBECONFIG=" + kubeconfig,
          "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--read-only", "--tmpfs", "/tmp",
          image, "--config", config.toString());
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().putAll(podman);
      return builder.start();
    });
  }
}
