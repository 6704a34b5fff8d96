package build.rex.operator;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code bin/rex operator} runs (OperatorMain), as its own process, against the API server
 * named by the current kubeconfig context; its metrics on the admin port.
 */
class OperatorProcessTest {
  @TempDir
  Path dir;

  @Test
  void theOperatorProcessRunsAgainstTheCurrentKubeconfig() throws Exception {
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
      int adminPort;
      try (ServerSocket socket = new ServerSocket(0)) {
        adminPort = socket.getLocalPort();
      }
      Path config = dir.resolve("operator.yaml");
      Files.writeString(config, "admin:\n  host: 127.0.0.1\n  port: " + adminPort + "\n");
      ProcessBuilder builder = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), OperatorMain.class.getName(), "--config", config.toString()))
          .redirectErrorStream(true).redirectOutput(dir.resolve("operator.log").toFile());
      builder.environment().put("KUBECONFIG", kubeconfig.toString());
      Process process = builder.start();
      try {
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
        String log = Files.readString(dir.resolve("operator.log"));
        assertTrue(log.contains("cluster default/build: created StatefulSet build-worker"), log);
      } finally {
        process.destroy();
        if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new AssertionError("the operator did not stop within 30 s of SIGTERM");
        }
      }
    }
  }
}
