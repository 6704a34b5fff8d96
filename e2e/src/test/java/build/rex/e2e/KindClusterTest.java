package build.rex.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.reconcile.Conditions;
import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.LocalPortForward;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The path a user takes, on a kind cluster: the chart installs the operator (its image), a
 * RemoteExecutionCluster turns Ready, Bazel builds and tests through a port-forward with the
 * client certificate the operator made, a scale-up adds a worker and a scale-down drains it.
 * Needs a Docker engine, {@code kind} on the PATH, Bazel with TLS, and the images the build made
 * with podman; where one is missing (no Docker engine runs on this kind of machine) it is
 * skipped and says which.
 */
class KindClusterTest {
  private static final String KIND_CLUSTER = "rex-e2e";
  private static final String NS = "builds";
  private static final Duration READY = Duration.ofMinutes(8);
  @TempDir static Path scratch;
  private static Path kubeconfig;
  private static KubernetesClient client;

  private static String missing;

  @BeforeAll
  static void createKindCluster() throws Exception {
    missing = missing();
    if (missing != null) {
      System.err.println("KindClusterTest SKIPPED: " + missing);
      return;
    }
    kubeconfig = scratch.resolve("kubeconfig");
    List<String> create = new ArrayList<>(List.of("kind", "create", "cluster", "--name", KIND_CLUSTER,
        "--kubeconfig", kubeconfig.toString(), "--wait", "180s"));
    String nodeImage = System.getenv("REX_KIND_NODE_IMAGE"); // hosted CI pins it (.github/workflows/ci.yml)
    if (nodeImage != null && !nodeImage.isEmpty()) {
      create.addAll(List.of("--image", nodeImage));
    }
    run(Duration.ofMinutes(5), create.toArray(String[]::new));
    for (Path image : List.of(Podman.OPERATOR_IMAGE, Podman.SCHEDULER_IMAGE, Podman.WORKER_IMAGE)) {
      run(Duration.ofMinutes(5), "kind", "load", "image-archive", image.toString(), "--name", KIND_CLUSTER);
    }
    client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(kubeconfig))).build();
  }

  @AfterAll
  static void deleteKindCluster() throws Exception {
    if (client != null) {
      client.close();
    }
    if (kubeconfig != null) {
      run(Duration.ofMinutes(2), "kind", "delete", "cluster", "--name", KIND_CLUSTER);
    }
  }

  /** Why this test cannot run here, or null. */
  private static String missing() {
    if (!succeeds("docker", "info")) {
      return "no Docker engine answers 'docker info' (kind runs its nodes in Docker)";
    }
    if (!succeeds("kind", "version")) {
      return "kind is not on the PATH";
    }
    if (!Bazel.installed() || Bazel.debianTcnative() == null) {
      return "Debian's Bazel with netty-tcnative is not installed (.ci/run installs it)";
    }
    return Podman.missing();
  }

  @Test
  void theChartsOperatorRunsAClusterThatBazelUsesAndThatScales() throws Exception {
    Assumptions.assumeTrue(missing == null, "SKIPPED: " + missing);
    new Helm(RexLocal.REPO.resolve("helm/rex-operator")).install().withName("rex-operator")
        .withNamespace("rex-system").createNamespace().withKubeConfig(kubeconfig).waitReady().withTimeout(300).call();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).create();
    // Small enough for one kind node: a ClusterIP Service (kind has no load balancer).
    RemoteExecutionCluster cluster = Serialization.unmarshal("""
        apiVersion: rex.build/v1alpha1
        kind: RemoteExecutionCluster
        metadata: {name: build}
        spec:
          schedulers: {replicas: 1, cpu: 250m, memory: 768Mi}
          workers:
            replicas: 2
            storage: {size: 1Gi}
            processMemory: 512Mi
            executors: [{name: small, count: 1, cpu: 500m, memory: 512Mi}]
          service: {type: ClusterIP}
        """, RemoteExecutionCluster.class);
    cluster.getMetadata().setNamespace(NS);
    client.resource(cluster).create();
    awaitReady(2);

    Pod scheduler = client.pods().inNamespace(NS).list().getItems().stream()
        .filter(pod -> pod.getMetadata().getName().startsWith("build-scheduler-")).findFirst().orElseThrow();
    Secret serverTls = client.secrets().inNamespace(NS).withName("build-tls").get();
    Secret clientTls = client.secrets().inNamespace(NS).withName("build-client-tls").get();
    Path ca = write("ca.crt", serverTls.getData().get("ca.crt"));
    Path certificate = write("client.crt", clientTls.getData().get("tls.crt"));
    Path key = write("client.key", clientTls.getData().get("tls.key"));
    Bazel bazel = new Bazel(scratch.resolve("bazel")).withTls();
    try (LocalPortForward forward = client.pods().inNamespace(NS).withName(scheduler.getMetadata().getName())
        .portForward(8980)) {
      Bazel.Run test = bazel.runAgainst("--remote_executor=grpcs://127.0.0.1:" + forward.getLocalPort(),
          "test", "//exec:tree_test", "--tls_certificate=" + ca, "--tls_client_certificate=" + certificate,
          "--tls_client_key=" + key, "--tls_authority_override=build." + NS + ".svc");
      assertEquals(0, test.exitCode(), test.output());
      assertTrue(test.processes().getOrDefault("remote", 0) >= 2, test.output());
    } finally {
      bazel.shutdown();
    }

    scaleWorkers(3);
    awaitReady(3);
    scaleWorkers(2);
    awaitReady(2);
    assertEquals(2, client.apps().statefulSets().inNamespace(NS).withName("build-worker").get().getSpec().getReplicas());
  }

  private static void scaleWorkers(int replicas) {
    client.resources(RemoteExecutionCluster.class).inNamespace(NS).withName("build").edit(c -> {
      c.getSpec().workers.replicas = replicas;
      return c;
    });
  }

  /** Ready, with {@code workers} workers ready and no scaling under way. */
  private static void awaitReady(int workers) throws InterruptedException {
    await("cluster Ready with " + workers + " workers", () -> {
      RemoteExecutionCluster current = client.resources(RemoteExecutionCluster.class).inNamespace(NS).withName("build").get();
      if (current == null || current.getStatus() == null) {
        return null;
      }
      Condition ready = Conditions.find(current.getStatus(), Conditions.READY);
      StatefulSet set = client.apps().statefulSets().inNamespace(NS).withName("build-worker").get();
      boolean done = ready != null && "True".equals(ready.getStatus()) && current.getStatus().scaling == null
          && Integer.valueOf(workers).equals(current.getStatus().readyWorkers)
          && set != null && set.getSpec().getReplicas() == workers;
      return done ? current : null;
    });
  }

  private static <T> T await(String what, Supplier<T> value) throws InterruptedException {
    long deadline = System.nanoTime() + READY.toNanos();
    while (System.nanoTime() < deadline) {
      T result = value.get();
      if (result != null) {
        return result;
      }
      Thread.sleep(2000);
    }
    throw new AssertionError("timed out after " + READY + " waiting for " + what + "; cluster: "
        + Serialization.asYaml(client.resources(RemoteExecutionCluster.class).inNamespace(NS).withName("build").get()));
  }

  private static Path write(String name, String base64) throws IOException {
    return Files.write(scratch.resolve(name), Base64.getDecoder().decode(base64));
  }

  private static boolean succeeds(String... command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static void run(Duration timeout, String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(new ArrayList<>(List.of(command))).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) || process.exitValue() != 0) {
      throw new AssertionError(String.join(" ", command) + " failed:\n" + output);
    }
  }
}
