package build.rex.operator;

import build.rex.operator.api.RemoteExecutionCluster;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * fabric8's Kubernetes mock server in CRUD mode (no server-side apply, no controllers, no
 * garbage collection), with our CRD installed. Records every call the operator's own client
 * makes (method and path), so the chart's RBAC rules can be checked against them.
 */
public final class MockKubernetes implements AutoCloseable {
  static final String OPERATOR_AGENT = "rex-operator-under-test";
  static final Path CRD_FILE = Path.of("..", "crds", "remoteexecutionclusters.rex.build-v1.yml");
  /** "METHOD path" of every call the operator made, paths without query strings except watch. */
  public final Set<String> operatorCalls = ConcurrentHashMap.newKeySet();
  private final KubernetesMockServer server;
  public final KubernetesClient client;

  public MockKubernetes() throws Exception {
    CustomResourceDefinition crd = Serialization.unmarshal(Files.readString(CRD_FILE), CustomResourceDefinition.class);
    KubernetesCrudDispatcher dispatcher = new KubernetesCrudDispatcher(
        List.of(CustomResourceDefinitionContext.fromCrd(crd))) {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        if (OPERATOR_AGENT.equals(request.getHeader("User-Agent"))) {
          String path = request.getPath();
          boolean watch = path.contains("watch=true");
          int query = path.indexOf('?');
          operatorCalls.add(request.getMethod() + " " + (query < 0 ? path : path.substring(0, query)) + (watch ? "?watch" : ""));
        }
        if ("POST".equals(request.getMethod()) && request.getPath().endsWith("/selfsubjectrulesreviews")) {
          return rulesReview(); // a real API server answers this; a CRUD store would echo the request
        }
        return super.dispatch(request);
      }
    };
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    server.init();
    client = server.createClient();
    client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
  }

  /** JOSDK asks before leader election whether it may use Leases; the chart grants it. */
  private static MockResponse rulesReview() {
    var review = new io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder()
        .withNewStatus().withIncomplete(false)
        .addNewResourceRule().withApiGroups("coordination.k8s.io").withResources("leases")
        .withVerbs("get", "create", "update").endResourceRule()
        .endStatus().build();
    return new MockResponse().setResponseCode(201).setBody(Serialization.asJson(review));
  }

  /** A client as the operator gets it: its calls are recorded. */
  public KubernetesClient operatorClient() {
    return server.createClient(builder -> builder.editOrNewConfig().withUserAgent(OPERATOR_AGENT).endConfig());
  }

  public RemoteExecutionCluster apply(String yaml, String namespace) {
    RemoteExecutionCluster cluster = Serialization.unmarshal(yaml, RemoteExecutionCluster.class);
    cluster.getMetadata().setNamespace(namespace);
    return client.resource(cluster).create();
  }

  /** Polls until {@code value} gives a non-null result, for up to 30 s. */
  public static <T> T await(String what, Supplier<T> value) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      T result;
      try {
        result = value.get();
      } catch (RuntimeException e) {
        result = null;
      }
      if (result != null) {
        return result;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("timed out waiting for " + what);
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }
}
