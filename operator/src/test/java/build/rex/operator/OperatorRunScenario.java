package build.rex.operator;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

/**
 * The operator run the way it is shipped, outside the test's JVM (as {@code bin/rex operator}
 * or as its container image), against the mock API server named by a kubeconfig: it makes a
 * cluster's objects, logs what it did, serves its metrics, and stops on SIGTERM.
 */
public final class OperatorRunScenario {
  /** Starts the operator with KUBECONFIG={@code kubeconfig}, {@code --config config}, output to {@code log}. */
  public interface Launch {
    Process start(Path kubeconfig, Path config, Path log) throws IOException;
  }

  private OperatorRunScenario() {}

  /** @param dir a folder for the kubeconfig, the config and the log, made readable to any user */
  public static void verify(Path dir, Launch launch) throws Exception {
    // An image's unprivileged user reads these files through a volume.
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (MockKubernetes kube = new MockKubernetes()) {
      Path kubeconfig = dir.resolve("kubeconfig");
      Files.writeString(kubeconfig, """
          apiVersion: v1
          kind: Config
          clusters:
            - name: mock
              cluster: {server: "%s", insecure-skip-tls-verify: true}
          users:
            - name: developer
              user: {token: not-checked}
          contexts:
            - name: mock
              context: {cluster: mock, user: developer, namespace: default}
          current-context: mock
          """.formatted(kube.client.getMasterUrl()));
      int adminPort = build.rex.server.FreePorts.block(1);
      Path config = dir.resolve("operator.yaml");
      Files.writeString(config, "admin:\n  host: 127.0.0.1\n  port: " + adminPort + "\n");
      Path log = dir.resolve("operator.log");
      Process process = launch.start(kubeconfig, config, log);
      try {
        expectAClusterMadeAndMetrics(kube, adminPort, log);
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "; the operator's output:\n" + Files.readString(log), e);
      } finally {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new AssertionError("the operator did not stop within 30 s of SIGTERM:\n" + Files.readString(log));
        }
      }
    }
  }

  private static void expectAClusterMadeAndMetrics(MockKubernetes kube, int adminPort, Path log) throws Exception {
    kube.apply(Files.readString(Path.of("..", "crds", "examples", "minimal.yaml")), "default");
    MockKubernetes.await("the worker StatefulSet", () ->
        kube.client.resources(StatefulSet.class).inNamespace("default").withName("build-worker").get());
    HttpClient http = HttpClient.newHttpClient();
    String metrics = MockKubernetes.await("metrics", () -> {
      try {
        String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        return body.contains("rex_operator_reconciliations_total") ? body : null;
      } catch (Exception e) {
        return null;
      }
    });
    assertTrue(metrics.contains("rex_operator_actions_total{action=\"created\"}"), metrics);
    String output = Files.readString(log);
    assertTrue(output.contains("cluster default/build: created StatefulSet build-worker"), output);
  }
}
