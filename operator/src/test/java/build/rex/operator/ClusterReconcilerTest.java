package build.rex.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.reconcile.Conditions;
import build.rex.operator.scaling.HttpSchedulerAdmin;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The operator against fabric8's mock API server (CRUD mode), with a double of the schedulers' admin API. */
class ClusterReconcilerTest {
  static final String NS = "builds";
  private MockKubernetes kube;
  private AdminDouble admin;
  private RexOperator operator;
  private KubernetesClient operatorClient;
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final TestClock clock = new TestClock();

  @BeforeEach
  void start() throws Exception {
    kube = new MockKubernetes();
    admin = new AdminDouble();
    startOperator();
  }

  /** Every API call the operator made in these tests, for the RBAC check. */
  private static final java.util.Set<String> CALLS = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @AfterAll
  static void theChartsRbacCoversEveryCallTheOperatorMade() {
    assertTrue(CALLS.size() > 20, "calls recorded: " + CALLS);
    assertEquals(List.of(), Chart.uncovered(CALLS));
  }

  @AfterEach
  void stop() {
    stopOperator();
    CALLS.addAll(kube.operatorCalls);
    admin.close();
    kube.close();
  }

  private void startOperator() {
    operatorClient = kube.operatorClient();
    operator = startOperator(operatorClient, registry, cause -> { });
  }

  /** An operator as the chart runs it (leader election in its namespace), with a short Lease. */
  private RexOperator startOperator(KubernetesClient client, PrometheusMeterRegistry metrics,
      java.util.function.Consumer<Throwable> fatal) {
    OperatorSettings settings = new OperatorSettings();
    settings.schedulerAdminUrl = admin.uri().toString();
    settings.drainPollSeconds = 1;
    settings.operatorNamespace = "rex-system";
    settings.leaderElection.leaseSeconds = 3;
    // The mock server goes away at the end of each test; a watch stopping then is expected.
    return RexOperator.start(client, settings, metrics, new HttpSchedulerAdmin(), fatal, clock);
  }

  /** A second replica stands by, healthy, doing nothing; when the leader goes, it takes over. */
  @Test
  void aStandbyOperatorActsOnlyOnceTheLeaderIsGone() throws Exception {
    applyExample("minimal.yaml");
    awaitSettled();
    PrometheusMeterRegistry standbyMetrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    KubernetesClient standbyClient = kube.operatorClient();
    List<Throwable> standbyFatal = new java.util.concurrent.CopyOnWriteArrayList<>();
    RexOperator standby = startOperator(standbyClient, standbyMetrics, standbyFatal::add);
    try {
      MockKubernetes.await("the standby healthy", () -> standby.healthy() ? true : null);
      edit(c -> c.getSpec().workers.replicas = 4);
      MockKubernetes.await("4 workers", () -> get(StatefulSet.class, "build-worker").getSpec().getReplicas() == 4 ? true : null);
      assertFalse(standbyMetrics.scrape().contains("rex_operator_reconciliations_total{"),
          "the standby reconciled while the leader held the Lease:\n" + standbyMetrics.scrape());

      stopOperator();
      edit(c -> c.getSpec().workers.replicas = 5);
      MockKubernetes.await("5 workers, made by the former standby",
          () -> get(StatefulSet.class, "build-worker").getSpec().getReplicas() == 5 ? true : null);
      // Counted when its reconciliation ends, which is after the StatefulSet was written.
      MockKubernetes.await("the former standby's reconciliation counted",
          () -> standbyMetrics.scrape().contains("rex_operator_reconciliations_total{") ? true : null);
      assertEquals(List.of(), standbyFatal);
    } finally {
      standby.close();
      standbyClient.close();
      CALLS.addAll(kube.operatorCalls);
    }
  }

  private void stopOperator() {
    if (operator != null) {
      operator.close();
      operatorClient.close();
      operator = null;
    }
  }

  private RemoteExecutionCluster applyExample(String name) throws Exception {
    return kube.apply(Files.readString(Path.of("..", "crds", "examples", name)), NS);
  }

  private <T extends HasMetadata> T get(Class<T> type, String name) {
    return kube.client.resources(type).inNamespace(NS).withName(name).get();
  }

  private <T extends HasMetadata> T await(Class<T> type, String name) throws InterruptedException {
    return MockKubernetes.await(type.getSimpleName() + " " + name, () -> get(type, name));
  }

  private RemoteExecutionCluster cluster() {
    return get(RemoteExecutionCluster.class, "build");
  }

  private Condition condition(String type) {
    return Conditions.find(cluster().getStatus(), type);
  }

  /** Waits until the operator has reconciled the cluster's current generation. */
  private void awaitSettled() throws InterruptedException {
    MockKubernetes.await("the current generation reconciled", () -> {
      RemoteExecutionCluster c = cluster();
      return c.getStatus() != null && c.getMetadata().getGeneration().equals(c.getStatus().observedGeneration) ? c : null;
    });
  }

  private void edit(java.util.function.Consumer<RemoteExecutionCluster> change) throws InterruptedException {
    awaitSettled();
    kube.client.resources(RemoteExecutionCluster.class).inNamespace(NS).withName("build").edit(cluster -> {
      change.accept(cluster);
      return cluster;
    });
  }

  /** A JSON patch, as kubectl sends it: fabric8's own serialization would drop an empty list. */
  private void jsonPatch(String json) throws InterruptedException {
    awaitSettled();
    kube.client.resources(RemoteExecutionCluster.class).inNamespace(NS).withName("build")
        .patch(new io.fabric8.kubernetes.client.dsl.base.PatchContext.Builder()
            .withPatchType(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON).build(), json);
  }

  private void workerPods(int count) {
    for (int i = 0; i < count; i++) {
      kube.client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("build-worker-" + i)
          .withNamespace(NS).withLabels(Map.of("app.kubernetes.io/name", "rex", "app.kubernetes.io/instance", "build",
              "app.kubernetes.io/component", "worker")).endMetadata().build()).createOr(existing -> existing.update());
    }
  }

  @Test
  void aMinimalClusterGetsEveryObjectWithTheRightSpecs() throws Exception {
    RemoteExecutionCluster applied = applyExample("minimal.yaml");
    Deployment schedulers = await(Deployment.class, "build-scheduler");
    StatefulSet workers = await(StatefulSet.class, "build-worker");
    Service client = await(Service.class, "build");
    Service schedulerPeers = await(Service.class, "build-scheduler-peers");
    Service workerPeers = await(Service.class, "build-workers");
    await(ConfigMap.class, "build-scheduler-config");
    await(ConfigMap.class, "build-worker-config");
    await(PodDisruptionBudget.class, "build-scheduler");
    PodDisruptionBudget workerBudget = await(PodDisruptionBudget.class, "build-worker");
    for (String secret : List.of("build-ca", "build-tls", "build-internal-tls", "build-client-tls")) {
      await(Secret.class, secret);
    }

    assertEquals(2, schedulers.getSpec().getReplicas());
    var schedulerPod = schedulers.getSpec().getTemplate().getSpec();
    assertEquals("/readyz", schedulerPod.getContainers().get(0).getReadinessProbe().getHttpGet().getPath());
    assertEquals(9090, schedulerPod.getContainers().get(0).getLivenessProbe().getHttpGet().getPort().getIntVal());
    assertNotNull(schedulerPod.getAffinity().getPodAntiAffinity());
    assertEquals(List.of("--config", "/etc/rex/config/scheduler.yaml"), schedulerPod.getContainers().get(0).getArgs());
    assertEquals("ghcr.io/rex-build/rex-scheduler:0.1.0", schedulerPod.getContainers().get(0).getImage());

    assertEquals("LoadBalancer", client.getSpec().getType());
    assertEquals(443, client.getSpec().getPorts().get(0).getPort());
    assertEquals(8980, client.getSpec().getPorts().get(0).getTargetPort().getIntVal());
    assertEquals("None", schedulerPeers.getSpec().getClusterIP());
    assertTrue(schedulerPeers.getSpec().getPublishNotReadyAddresses());
    assertEquals("None", workerPeers.getSpec().getClusterIP());

    assertEquals(3, workers.getSpec().getReplicas());
    assertEquals("build-workers", workers.getSpec().getServiceName());
    assertEquals("50Gi", workers.getSpec().getVolumeClaimTemplates().get(0).getSpec().getResources().getRequests()
        .get("storage").toString());
    assertEquals("Delete", workers.getSpec().getPersistentVolumeClaimRetentionPolicy().getWhenDeleted());
    var workerContainer = workers.getSpec().getTemplate().getSpec().getContainers().get(0);
    // 2 executors of 1 cpu and 2Gi, plus 1Gi for the worker process; requests equal limits.
    assertEquals(new Quantity("2000m"), workerContainer.getResources().getRequests().get("cpu"));
    assertEquals(new Quantity("5120Mi"), workerContainer.getResources().getRequests().get("memory"));
    assertEquals(workerContainer.getResources().getRequests(), workerContainer.getResources().getLimits());
    assertEquals(1, workerBudget.getSpec().getMaxUnavailable().getIntVal());

    // Owned by the cluster, so deleting it deletes them.
    for (HasMetadata owned : List.<HasMetadata>of(schedulers, workers, client, schedulerPeers, workerPeers, workerBudget,
        await(Secret.class, "build-ca"), await(ConfigMap.class, "build-worker-config"))) {
      var owner = owned.getMetadata().getOwnerReferences().get(0);
      assertEquals(applied.getMetadata().getUid(), owner.getUid(), owned.getKind());
      assertEquals("RemoteExecutionCluster", owner.getKind());
      assertEquals("rex-operator", owned.getMetadata().getLabels().get("app.kubernetes.io/managed-by"));
    }
    assertNotNull(schedulers.getSpec().getTemplate().getMetadata().getAnnotations().get("rex.build/config-hash"));
  }

  @Test
  void networkPoliciesOpenEachPortOnlyToWhoNeedsIt() throws Exception {
    applyExample("minimal.yaml");
    NetworkPolicy schedulers = await(NetworkPolicy.class, "build-scheduler");
    NetworkPolicy workers = await(NetworkPolicy.class, "build-worker");
    assertEquals("scheduler", schedulers.getSpec().getPodSelector().getMatchLabels().get("app.kubernetes.io/component"));
    assertEquals(List.of("Ingress"), schedulers.getSpec().getPolicyTypes());
    assertEquals(List.of(), ingress(schedulers, 8980).getFrom(), "clients from anywhere");
    Map<String, String> clusterPods = Map.of("app.kubernetes.io/name", "rex", "app.kubernetes.io/instance", "build");
    for (var internal : List.of(ingress(schedulers, 8982), ingress(workers, 8981))) {
      assertEquals(clusterPods, internal.getFrom().get(0).getPodSelector().getMatchLabels());
      assertNull(internal.getFrom().get(0).getNamespaceSelector());
    }
    assertEquals(List.of("rex-system"), adminNamespaces(schedulers, 9090));
    assertEquals(List.of("rex-system"), adminNamespaces(workers, 9091));
    assertEquals(3, schedulers.getSpec().getIngress().size(), "client, internal and admin ports, nothing else");
    assertEquals(2, workers.getSpec().getIngress().size(), "internal and admin ports, nothing else");

    edit(c -> c.getSpec().network.adminFrom = List.of("monitoring"));
    MockKubernetes.await("the monitoring namespace let in", () ->
        adminNamespaces(get(NetworkPolicy.class, "build-worker"), 9091).contains("monitoring") ? true : null);
    MockKubernetes.await("the monitoring namespace let in to the schedulers too", () ->
        adminNamespaces(get(NetworkPolicy.class, "build-scheduler"), 9090).equals(List.of("rex-system", "monitoring"))
            ? true : null);

    edit(c -> c.getSpec().network.policies = false);
    MockKubernetes.await("the policies removed", () ->
        get(NetworkPolicy.class, "build-scheduler") == null && get(NetworkPolicy.class, "build-worker") == null ? true : null);
  }

  private static io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule ingress(NetworkPolicy policy,
      int port) {
    return policy.getSpec().getIngress().stream()
        .filter(rule -> rule.getPorts().get(0).getPort().getIntVal() == port).findFirst()
        .orElseThrow(() -> new AssertionError("no rule for port " + port + " in " + policy.getSpec()));
  }

  private static List<String> adminNamespaces(NetworkPolicy policy, int port) {
    var selector = ingress(policy, port).getFrom().get(0).getNamespaceSelector().getMatchExpressions().get(0);
    assertEquals("kubernetes.io/metadata.name", selector.getKey());
    assertEquals("In", selector.getOperator());
    return selector.getValues();
  }

  @Test
  void statusAndPrinterColumnsAreFilledAndTheClusterTurnsReady() throws Exception {
    applyExample("minimal.yaml");
    await(StatefulSet.class, "build-worker");
    RemoteExecutionCluster waiting = MockKubernetes.await("status", () -> {
      var c = cluster();
      return c.getStatus() != null && c.getStatus().workers != null ? c : null;
    });
    assertEquals("0/2", waiting.getStatus().schedulers);
    assertEquals("0/3", waiting.getStatus().workers);
    assertEquals(waiting.getMetadata().getGeneration(), waiting.getStatus().observedGeneration);
    assertEquals("False", condition(Conditions.READY).getStatus());
    assertTrue(condition(Conditions.READY).getMessage().contains("0/3 workers ready"), condition(Conditions.READY).getMessage());
    assertEquals("True", condition(Conditions.PROGRESSING).getStatus());

    // What Kubernetes' controllers would do: pods ready, a load balancer address.
    kube.client.apps().deployments().inNamespace(NS).withName("build-scheduler")
        .editStatus(d -> { d.setStatus(new io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder()
            .withReplicas(2).withReadyReplicas(2).build()); return d; });
    kube.client.apps().statefulSets().inNamespace(NS).withName("build-worker")
        .editStatus(s -> { s.setStatus(new io.fabric8.kubernetes.api.model.apps.StatefulSetStatusBuilder()
            .withReplicas(3).withReadyReplicas(3).build()); return s; });
    kube.client.services().inNamespace(NS).withName("build").editStatus(s -> {
      s.setStatus(new io.fabric8.kubernetes.api.model.ServiceStatusBuilder().withNewLoadBalancer()
          .withIngress(new io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder().withIp("203.0.113.7").build()).endLoadBalancer().build());
      return s;
    });
    RemoteExecutionCluster ready = MockKubernetes.await("Ready", () ->
        "True".equals(condition(Conditions.READY).getStatus()) ? cluster() : null);
    assertEquals("2/2", ready.getStatus().schedulers);
    assertEquals("3/3", ready.getStatus().workers);
    assertEquals("grpcs://203.0.113.7:443", ready.getStatus().endpoint);
    assertEquals("False", condition(Conditions.DEGRADED).getStatus());
    assertEquals("False", condition(Conditions.PROGRESSING).getStatus());
    // The load balancer's address joins the server certificate, so clients can dial it.
    Secret tls = MockKubernetes.await("certificate with the LB address", () -> {
      Secret s = get(Secret.class, "build-tls");
      return Certificates.altNames(s).contains("203.0.113.7") ? s : null;
    });
    assertTrue(Certificates.altNames(tls).contains("build.builds.svc"));

    // The printer columns read these paths.
    var columns = CrdFiles.printerColumns();
    assertEquals(List.of("Age", "Autoscale", "Endpoint", "Ready", "Schedulers", "Workers"),
        columns.keySet().stream().sorted().toList());
    assertEquals("True", JsonPaths.read(ready, columns.get("Ready")));
    assertEquals("2/2", JsonPaths.read(ready, columns.get("Schedulers")));
    assertEquals("3/3", JsonPaths.read(ready, columns.get("Workers")));
    assertEquals("grpcs://203.0.113.7:443", JsonPaths.read(ready, columns.get("Endpoint")));
    assertNotNull(JsonPaths.read(ready, columns.get("Age")));

    String metrics = registry.scrape();
    assertTrue(metrics.contains("rex_operator_reconciliations_total{result=\"ok\"}"), metrics);
    assertTrue(metrics.contains("rex_operator_reconcile_duration_seconds_count"), metrics);
    assertTrue(metrics.contains("rex_operator_actions_total{action=\"created\"}"), metrics);
  }

  @Test
  void aSpecChangeUpdatesTheObjectsAndRollsThePods() throws Exception {
    applyExample("minimal.yaml");
    Deployment before = await(Deployment.class, "build-scheduler");
    StatefulSet workersBefore = await(StatefulSet.class, "build-worker");
    String hash = before.getSpec().getTemplate().getMetadata().getAnnotations().get("rex.build/config-hash");
    String workerHash = workersBefore.getSpec().getTemplate().getMetadata().getAnnotations().get("rex.build/config-hash");

    edit(c -> {
      c.getSpec().cas.replicationFactor = 3;
      c.getSpec().schedulers.memory = "3Gi";
    });
    Deployment after = MockKubernetes.await("a rolled scheduler template", () -> {
      Deployment d = get(Deployment.class, "build-scheduler");
      return hash.equals(d.getSpec().getTemplate().getMetadata().getAnnotations().get("rex.build/config-hash")) ? null : d;
    });
    assertEquals(new Quantity("3Gi"), after.getSpec().getTemplate().getSpec().getContainers().get(0).getResources()
        .getLimits().get("memory"));
    // The same reconciliation writes these too, in its own order: wait for each.
    MockKubernetes.await("the scheduler config with 3 copies", () -> get(ConfigMap.class, "build-scheduler-config")
        .getData().get("scheduler.yaml").contains("replicas: 3") ? true : null);
    MockKubernetes.await("the worker budget to allow 2 down", () -> get(PodDisruptionBudget.class, "build-worker")
        .getSpec().getMaxUnavailable().getIntVal() == 2 ? true : null);
    // The workers' config did not change, so they keep running.
    assertEquals(workerHash, get(StatefulSet.class, "build-worker").getSpec().getTemplate().getMetadata().getAnnotations()
        .get("rex.build/config-hash"));

    edit(c -> c.getSpec().workers.executors.get(0).count = 4);
    StatefulSet rolled = MockKubernetes.await("a rolled worker template", () -> {
      StatefulSet s = get(StatefulSet.class, "build-worker");
      return workerHash.equals(s.getSpec().getTemplate().getMetadata().getAnnotations().get("rex.build/config-hash")) ? null : s;
    });
    assertEquals(new Quantity("4000m"), rolled.getSpec().getTemplate().getSpec().getContainers().get(0).getResources()
        .getRequests().get("cpu"));
  }

  @Test
  void handEditsAreUndone() throws Exception {
    applyExample("minimal.yaml");
    await(Deployment.class, "build-scheduler");
    await(Service.class, "build");
    kube.client.apps().deployments().inNamespace(NS).withName("build-scheduler").edit(d -> {
      d.getSpec().setReplicas(7);
      d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage("evil:latest");
      return d;
    });
    kube.client.services().inNamespace(NS).withName("build").edit(s -> {
      s.getSpec().setType("NodePort");
      return s;
    });
    kube.client.configMaps().inNamespace(NS).withName("build-worker-config").delete();
    MockKubernetes.await("the Deployment restored", () -> {
      Deployment d = get(Deployment.class, "build-scheduler");
      return d.getSpec().getReplicas() == 2
          && d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage().endsWith("rex-scheduler:0.1.0") ? d : null;
    });
    MockKubernetes.await("the Service restored", () ->
        "LoadBalancer".equals(get(Service.class, "build").getSpec().getType()) ? true : null);
    await(ConfigMap.class, "build-worker-config");
  }

  /**
   * An edit while the first reconciliation still runs (kubectl apply twice): its status write
   * conflicts, lands on the newer version, and the edit is reconciled next. (With JOSDK's
   * diff-based status patch the mock server failed that patch and the edit waited, in 9 runs
   * out of 10, past this test's 30 s.)
   */
  @Test
  void anEditDuringTheFirstReconciliationIsApplied() throws Exception {
    applyExample("minimal.yaml");
    kube.client.resources(RemoteExecutionCluster.class).inNamespace(NS).withName("build").edit(c -> {
      c.getSpec().workers.replicas = 5;
      return c;
    });
    MockKubernetes.await("5 workers", () -> {
      StatefulSet set = get(StatefulSet.class, "build-worker");
      return set != null && set.getSpec().getReplicas() == 5 ? true : null;
    });
  }

  /** As the StatefulSet controller would make them: each worker's volume. */
  private void workerVolumes(int count, String size) {
    for (int i = 0; i < count; i++) {
      kube.client.persistentVolumeClaims().inNamespace(NS).resource(new PersistentVolumeClaimBuilder()
          .withNewMetadata().withName("cas-build-worker-" + i).withNamespace(NS).endMetadata()
          .withNewSpec().withNewResources().withRequests(Map.of("storage", new Quantity(size))).endResources().endSpec()
          .build()).create();
    }
  }

  private Quantity volumeSize(int ordinal) {
    return get(PersistentVolumeClaim.class, "cas-build-worker-" + ordinal).getSpec().getResources().getRequests().get("storage");
  }

  private StatefulSet awaitReplaced(StatefulSet before, String templateSize) throws InterruptedException {
    return MockKubernetes.await("the worker StatefulSet replaced with " + templateSize + " volumes", () -> {
      StatefulSet now = get(StatefulSet.class, "build-worker");
      return now != null && !now.getMetadata().getUid().equals(before.getMetadata().getUid())
          && new Quantity(templateSize).equals(now.getSpec().getVolumeClaimTemplates().get(0).getSpec().getResources()
              .getRequests().get("storage")) ? now : null;
    });
  }

  /** Kubernetes forbids changing a StatefulSet's volume templates: the operator grows and replaces instead. */
  @Test
  void aNewVolumeSizeGrowsTheWorkersVolumesAndReplacesTheStatefulSetKeepingItsWorkers() throws Exception {
    applyExample("minimal.yaml");
    StatefulSet before = await(StatefulSet.class, "build-worker");
    workerPods(3);
    workerVolumes(3, "50Gi");

    edit(c -> c.getSpec().workers.storage.size = "80Gi");
    StatefulSet grown = awaitReplaced(before, "80Gi");
    assertEquals(3, grown.getSpec().getReplicas(), "every running worker kept");
    for (int i = 0; i < 3; i++) {
      assertEquals(new Quantity("80Gi"), volumeSize(i), "volume " + i + " grown in place");
      assertNotNull(get(io.fabric8.kubernetes.api.model.Pod.class, "build-worker-" + i), "worker " + i + " left running");
    }

    // Volumes do not shrink: a smaller size is for new workers only.
    edit(c -> c.getSpec().workers.storage.size = "60Gi");
    awaitReplaced(grown, "60Gi");
    assertEquals(new Quantity("80Gi"), volumeSize(0));
  }

  @Test
  void scaleUpIsImmediate() throws Exception {
    applyExample("minimal.yaml");
    await(StatefulSet.class, "build-worker");
    edit(c -> c.getSpec().workers.replicas = 6);
    MockKubernetes.await("6 workers", () -> get(StatefulSet.class, "build-worker").getSpec().getReplicas() == 6 ? true : null);
    assertTrue(admin.drainCalls.isEmpty());
  }

  @Test
  void scaleDownDrainsTheHighestOrdinalsFirstAndSurvivesAnOperatorRestart() throws Exception {
    applyExample("minimal.yaml");
    await(StatefulSet.class, "build-worker");
    edit(c -> c.getSpec().workers.replicas = 5);
    MockKubernetes.await("5 workers", () -> get(StatefulSet.class, "build-worker").getSpec().getReplicas() == 5 ? true : null);
    workerPods(5);
    for (int i = 0; i < 5; i++) {
      admin.connect("build-worker-" + i);
    }

    edit(c -> c.getSpec().workers.replicas = 3);
    MockKubernetes.await("drain calls for workers 3 and 4", () ->
        admin.drainCalls.contains("POST /workers/build-worker-4/drain")
            && admin.drainCalls.contains("POST /workers/build-worker-3/drain") ? true : null);
    RemoteExecutionCluster waiting = MockKubernetes.await("status naming the wait", () ->
        cluster().getStatus().scaling != null ? cluster() : null);
    assertTrue(waiting.getStatus().scaling.contains("build-worker-3: copying 12 blobs"), waiting.getStatus().scaling);
    assertEquals(List.of("build-worker-3", "build-worker-4"), waiting.getStatus().drainingWorkers);
    assertEquals("Draining", condition(Conditions.PROGRESSING).getReason());
    assertEquals(5, get(StatefulSet.class, "build-worker").getSpec().getReplicas());
    assertFalse(admin.drainCalls.stream().anyMatch(call -> call.contains("build-worker-2")));

    // The operator restarts in the middle: the new one picks the drain up from the cluster's state.
    stopOperator();
    admin.finishDrain("build-worker-4");
    startOperator();
    // The new operator's own decision: it no longer waits for worker 4, still for worker 3.
    MockKubernetes.await("the new operator waiting for worker 3 only", () -> {
      String scaling = cluster().getStatus().scaling;
      return scaling != null && scaling.contains("build-worker-3") && !scaling.contains("build-worker-4") ? true : null;
    });
    assertEquals(5, get(StatefulSet.class, "build-worker").getSpec().getReplicas(), "worker 3 is not drained yet");
    admin.finishDrain("build-worker-3");
    MockKubernetes.await("3 workers", () -> get(StatefulSet.class, "build-worker").getSpec().getReplicas() == 3 ? true : null);
    RemoteExecutionCluster done = MockKubernetes.await("status cleared", () ->
        cluster().getStatus().scaling == null ? cluster() : null);
    assertNull(done.getStatus().drainingWorkers);
  }

  @Test
  void theAutoscalerFollowsTheQueueWithinItsBoundsWithoutFlappingAndDrainsBeforeScalingDown() throws Exception {
    applyExample("minimal.yaml");
    await(StatefulSet.class, "build-worker");
    workerPods(5);
    for (int i = 0; i < 5; i++) {
      admin.connect("build-worker-" + i);
    }
    admin.queue(20, 6); // 20 waiting: 10 workers of 2 executors would have one waiting each
    edit(c -> {
      var autoscale = c.getSpec().workers.autoscale;
      autoscale.enabled = true;
      autoscale.minReplicas = 3;
      autoscale.maxReplicas = 5;
      autoscale.scaleUpDelay = "1m";
      autoscale.scaleDownDelay = "10m";
    });
    Condition held = MockKubernetes.await("the rise seen and held", () ->
        "3 -> 3 (queue asks 5)".equals(cluster().getStatus().autoscaling) ? condition("WorkersScaled") : null);
    assertTrue(held.getMessage().contains("20 actions queued, 6 executors busy: 5 wanted once that lasts 1m"),
        held.getMessage());
    assertEquals(3, get(StatefulSet.class, "build-worker").getSpec().getReplicas());
    assertEquals("3 -> 3 (queue asks 5)", JsonPaths.read(cluster(), CrdFiles.printerColumns().get("Autoscale")));

    clock.advance(java.time.Duration.ofSeconds(61)); // the rise lasted the delay: up at once, to maxReplicas
    MockKubernetes.await("5 workers", () -> get(StatefulSet.class, "build-worker").getSpec().getReplicas() == 5 ? true : null);
    MockKubernetes.await("a ScalingUp event", () -> kube.client.v1().events().inNamespace(NS).list().getItems().stream()
        .anyMatch(e -> "ScalingUp".equals(e.getReason()) && e.getMessage().startsWith("workers 3 -> 5")) ? true : null);

    // The queue flaps: empty, full again for a moment, empty. Nothing moves within the delay.
    admin.queue(0, 0);
    awaitAutoscaling("5 -> 5 (queue asks 3)");
    clock.advance(java.time.Duration.ofMinutes(6));
    admin.queue(20, 6);
    awaitAutoscaling("5 -> 5 (queue asks 5)");
    admin.queue(0, 0);
    awaitAutoscaling("5 -> 5 (queue asks 3)");
    clock.advance(java.time.Duration.ofMinutes(6)); // 12 min empty but for a moment 6 min ago
    int reads = admin.loadCalls.get();
    MockKubernetes.await("a whole decision made after the clock moved", () -> admin.loadCalls.get() >= reads + 3 ? true : null);
    assertEquals("5 -> 5 (queue asks 3)", cluster().getStatus().autoscaling);
    assertTrue(condition("WorkersScaled").getMessage().contains("held until that lasts 10m"),
        condition("WorkersScaled").getMessage());
    assertEquals(5, get(StatefulSet.class, "build-worker").getSpec().getReplicas());
    assertFalse(admin.drainCalls.stream().anyMatch(call -> call.contains("drain")), admin.drainCalls.toString());

    // Empty for the whole delay: down to minReplicas, through the drains.
    clock.advance(java.time.Duration.ofMinutes(5));
    MockKubernetes.await("drain calls for workers 3 and 4", () ->
        admin.drainCalls.contains("POST /workers/build-worker-4/drain")
            && admin.drainCalls.contains("POST /workers/build-worker-3/drain") ? true : null);
    RemoteExecutionCluster draining = MockKubernetes.await("the scale-down waiting for drains", () ->
        cluster().getStatus().scaling != null ? cluster() : null);
    assertEquals("5 -> 3 (queue asks 3)", draining.getStatus().autoscaling);
    assertEquals("ScalingDown", condition("WorkersScaled").getReason());
    assertEquals(5, get(StatefulSet.class, "build-worker").getSpec().getReplicas());
    admin.finishDrain("build-worker-3");
    admin.finishDrain("build-worker-4");
    MockKubernetes.await("3 workers", () -> get(StatefulSet.class, "build-worker").getSpec().getReplicas() == 3 ? true : null);
    awaitAutoscaling("3 -> 3 (queue asks 3)");
    assertEquals(3, cluster().getStatus().desiredWorkers);
  }

  private void awaitAutoscaling(String summary) throws InterruptedException {
    MockKubernetes.await("autoscaling " + summary, () -> summary.equals(cluster().getStatus().autoscaling) ? true : null);
  }

  @Test
  void unreachableSchedulersHoldTheScaleDownUntilItIsForced() throws Exception {
    applyExample("minimal.yaml");
    await(StatefulSet.class, "build-worker");
    workerPods(3);
    admin.close(); // the schedulers' admin API is gone
    edit(c -> {
      c.getSpec().workers.replicas = 2;
      c.getSpec().cas.replicationFactor = 1;
    });
    RemoteExecutionCluster waiting = MockKubernetes.await("status naming the wait", () ->
        cluster().getStatus().scaling != null ? cluster() : null);
    assertTrue(waiting.getStatus().scaling.contains("unreachable"), waiting.getStatus().scaling);
    assertTrue(waiting.getStatus().scaling.contains("rex.build/force-scale-down=true"), waiting.getStatus().scaling);
    // That status is the reconciliation's decision to wait, written after it left the count alone.
    assertEquals(3, get(StatefulSet.class, "build-worker").getSpec().getReplicas());

    edit(c -> c.getMetadata().getAnnotations().put(RemoteExecutionCluster.FORCE_SCALE_DOWN, "true"));
    MockKubernetes.await("2 workers", () -> get(StatefulSet.class, "build-worker").getSpec().getReplicas() == 2 ? true : null);
    MockKubernetes.await("the annotation removed", () ->
        cluster().getMetadata().getAnnotations().containsKey(RemoteExecutionCluster.FORCE_SCALE_DOWN) ? null : true);
  }

  @Test
  void aScaleDownCalledOffRestartsTheWorkersThatWereDrained() throws Exception {
    applyExample("minimal.yaml");
    await(StatefulSet.class, "build-worker");
    workerPods(3);
    admin.connect("build-worker-2");
    edit(c -> {
      c.getSpec().workers.replicas = 2;
      c.getSpec().cas.replicationFactor = 1;
    });
    MockKubernetes.await("a drain", () -> admin.drainCalls.isEmpty() ? null : true);
    MockKubernetes.await("draining listed", () -> cluster().getStatus().drainingWorkers != null ? true : null);
    edit(c -> c.getSpec().workers.replicas = 3);
    MockKubernetes.await("the drained worker restarted", () ->
        kube.client.pods().inNamespace(NS).withName("build-worker-2").get() == null ? true : null);
    MockKubernetes.await("status cleared", () -> cluster().getStatus().drainingWorkers == null ? true : null);
    assertEquals(3, get(StatefulSet.class, "build-worker").getSpec().getReplicas());
  }

  @Test
  void scalingBelowTheReplicationFactorIsRefused() throws Exception {
    applyExample("minimal.yaml");
    await(StatefulSet.class, "build-worker");
    edit(c -> c.getSpec().workers.replicas = 1);
    Condition degraded = MockKubernetes.await("Degraded", () -> {
      Condition c = condition(Conditions.DEGRADED);
      return c != null && "True".equals(c.getStatus()) ? c : null;
    });
    assertEquals("InvalidSpec", degraded.getReason());
    assertTrue(degraded.getMessage().contains("workers.replicas (1) must be at least cas.replicationFactor (2)"),
        degraded.getMessage());
    assertEquals(3, get(StatefulSet.class, "build-worker").getSpec().getReplicas());
    assertTrue(admin.drainCalls.isEmpty());
    MockKubernetes.await("a Warning event", () -> kube.client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "InvalidSpec".equals(e.getReason()) && e.getMessage().contains("cas.replicationFactor")).findAny()
        .orElse(null));
  }

  @Test
  void badSpecsAreReportedNotCrashedOn() throws Exception {
    applyExample("minimal.yaml");
    Deployment running = await(Deployment.class, "build-scheduler");
    // Sent as kubectl would, to an API server without the CRD's schema.
    String good = "[{\"op\":\"replace\",\"path\":\"/spec/workers/executors\",\"value\":[{\"name\":\"default\","
        + "\"count\":2,\"cpu\":\"1\",\"memory\":\"2Gi\"}]},"
        + "{\"op\":\"replace\",\"path\":\"/spec/schedulers/memory\",\"value\":\"2Gi\"},"
        + "{\"op\":\"replace\",\"path\":\"/spec/tls/mode\",\"value\":\"Generated\"},"
        + "{\"op\":\"replace\",\"path\":\"/spec/workers/autoscale\",\"value\":{\"enabled\":false}},"
        + "{\"op\":\"replace\",\"path\":\"/spec/certificates\",\"value\":{\"caValidity\":\"365d\","
        + "\"caRenewBefore\":\"30d\",\"rotationOverlap\":\"10m\"}}]";
    Map<String, String> bad = new java.util.LinkedHashMap<>();
    bad.put("workers.executors must list at least one executor pool",
        "[{\"op\":\"replace\",\"path\":\"/spec/workers/executors\",\"value\":[]}]");
    bad.put("schedulers.memory must be a Kubernetes quantity",
        "[{\"op\":\"replace\",\"path\":\"/spec/schedulers/memory\",\"value\":\"lots\"}]");
    bad.put("tls.mode must be Generated, Secret or CertManager, got 'Magic'",
        "[{\"op\":\"replace\",\"path\":\"/spec/tls/mode\",\"value\":\"Magic\"}]");
    bad.put("workers.autoscale.maxReplicas (2) must be at least minReplicas (4)",
        "[{\"op\":\"replace\",\"path\":\"/spec/workers/autoscale\",\"value\":{\"enabled\":true,\"minReplicas\":4,"
            + "\"maxReplicas\":2,\"targetQueuedPerExecutor\":1,\"scaleUpDelay\":\"15s\",\"scaleDownDelay\":\"10m\"}}]");
    bad.put("certificates.rotationOverlap (20d) must be less than half of caRenewBefore (30d)",
        "[{\"op\":\"replace\",\"path\":\"/spec/certificates/rotationOverlap\",\"value\":\"20d\"}]");
    bad.put("workers.executors[0].count must be at least 1",
        "[{\"op\":\"replace\",\"path\":\"/spec/workers/executors/0/count\",\"value\":0}]");
    for (var entry : bad.entrySet()) {
      jsonPatch(good);
      jsonPatch(entry.getValue());
      Condition degraded = MockKubernetes.await(entry.getKey(), () -> {
        Condition c = condition(Conditions.DEGRADED);
        return c != null && c.getMessage().contains(entry.getKey()) ? c : null;
      });
      assertEquals("True", degraded.getStatus());
      assertEquals("False", condition(Conditions.READY).getStatus());
    }
    // Nothing changed in the running cluster, and a fixed spec clears the condition.
    assertEquals(running.getSpec(), get(Deployment.class, "build-scheduler").getSpec());
    jsonPatch(good);
    MockKubernetes.await("Degraded cleared", () -> "False".equals(condition(Conditions.DEGRADED).getStatus()) ? true : null);
    assertTrue(registry.scrape().contains("rex_operator_reconciliations_total{result=\"invalid\"}"));
  }

  @Test
  void certificatesAreRenewedBeforeTheyExpireAndTheCaIsKept() throws Exception {
    applyExample("minimal.yaml");
    Secret first = await(Secret.class, "build-internal-tls");
    String ca = get(Secret.class, "build-ca").getData().get("ca.crt");
    var expiry = Certificates.notAfter(first);
    assertTrue(expiry.isAfter(java.time.Instant.now().plus(java.time.Duration.ofDays(80))));
    clock.advance(java.time.Duration.ofDays(70));
    edit(c -> c.getSpec().schedulers.replicas = 3); // any event: renewal is checked on every reconciliation
    Secret renewed = MockKubernetes.await("a renewed certificate", () -> {
      Secret s = get(Secret.class, "build-internal-tls");
      return s.getData().get("tls.crt").equals(first.getData().get("tls.crt")) ? null : s;
    });
    assertFalse(Certificates.notAfter(renewed).isBefore(expiry));
    assertNotEquals(first.getData().get("tls.crt"), renewed.getData().get("tls.crt"));
    assertEquals(ca, get(Secret.class, "build-ca").getData().get("ca.crt"));
  }

  /** The certificates every component holds at one step of a CA rotation. */
  private record TlsState(Secret ca, Secret internal, Secret client, Secret server) {}

  private TlsState tlsState() {
    return new TlsState(get(Secret.class, "build-ca"), get(Secret.class, "build-internal-tls"),
        get(Secret.class, "build-client-tls"), get(Secret.class, "build-tls"));
  }

  /**
   * While pods move from {@code before}'s files to {@code after}'s (the kubelet updates them one
   * at a time), any of them may hold either: every pair must still accept each other.
   */
  private void everyoneAcceptsEveryone(TlsState before, TlsState after) {
    var at = clock.instant();
    for (TlsState trust : List.of(before, after)) {
      for (TlsState shown : List.of(before, after)) {
        // Schedulers and workers between them; clients (trusting client-tls's ca.crt) the client port;
        // schedulers (trusting the same CA for client certificates) the clients.
        assertTrue(Certificates.accepts(trust.internal(), shown.internal(), at), "internal peers");
        assertTrue(Certificates.accepts(trust.client(), shown.server(), at), "clients accept the client port");
        assertTrue(Certificates.accepts(trust.client(), shown.client(), at), "schedulers accept client certificates");
      }
    }
  }

  private TlsState awaitCaSecret(String what, java.util.function.Predicate<Map<String, String>> state)
      throws InterruptedException {
    edit(c -> c.getSpec().schedulers.replicas = c.getSpec().schedulers.replicas == 2 ? 3 : 2); // any event
    MockKubernetes.await(what, () -> state.test(get(Secret.class, "build-ca").getData()) ? true : null);
    awaitSettled(); // the leaf Secrets of that step written too
    return tlsState();
  }

  @Test
  void theCasRotateBeforeTheyExpireWithAnOverlapInWhichEveryoneAcceptsEveryone() throws Exception {
    applyExample("minimal.yaml");
    await(Secret.class, "build-tls");
    awaitSettled();
    TlsState initial = tlsState();
    var oldCa = Certificates.trusted(initial.client()).get(0);
    assertEquals(java.time.Duration.ofDays(365).toDays(), java.time.Duration.between(
        oldCa.getNotBefore().toInstant().plus(java.time.Duration.ofHours(1)), oldCa.getNotAfter().toInstant()).toDays());
    assertEquals("Stable", cluster().getStatus().certificates);

    // 35 days before the CAs end the leaf certificates were renewed (every 60 days): now they end with their CA.
    clock.advance(java.time.Duration.ofDays(330));
    String first = initial.internal().getData().get("tls.crt");
    TlsState stable = awaitCaSecret("leaf certificates renewed", data -> !first.equals(get(Secret.class, "build-internal-tls")
        .getData().get("tls.crt")));
    assertEquals(oldCa.getNotAfter(), Certificates.of(stable.internal()).getNotAfter(), "a leaf never outlives its CA");

    // 30 days before the CAs end: new ones are trusted beside them; the old ones still sign.
    clock.advance(java.time.Duration.ofDays(6));
    TlsState introducing = awaitCaSecret("new CAs introduced", data -> data.containsKey("next-ca.crt")
        && data.containsKey("internal-next-ca.crt"));
    assertEquals("Introducing a new CA", cluster().getStatus().certificates);
    assertEquals(2, Certificates.trusted(introducing.internal()).size());
    assertEquals(2, Certificates.trusted(introducing.client()).size());
    assertEquals(oldCa, Certificates.trusted(introducing.client()).get(0), "the old CA still signs");
    everyoneAcceptsEveryone(stable, introducing);

    // After the overlap: the new CAs sign (leaf certificates issued again), the old ones still trusted.
    clock.advance(java.time.Duration.ofMinutes(11));
    TlsState retiring = awaitCaSecret("the old CAs retiring", data -> data.containsKey("previous-ca.crt")
        && data.containsKey("internal-previous-ca.crt"));
    assertEquals("Retiring the old CA", cluster().getStatus().certificates);
    assertNotEquals(Certificates.of(introducing.internal()), Certificates.of(retiring.internal()));
    assertNotEquals(oldCa, Certificates.trusted(retiring.client()).get(0));
    everyoneAcceptsEveryone(introducing, retiring);

    // After another overlap: the old CAs are gone from every bundle.
    clock.advance(java.time.Duration.ofMinutes(11));
    TlsState rotated = awaitCaSecret("the rotation done", data -> !data.containsKey("previous-ca.crt")
        && !data.containsKey("internal-previous-ca.crt") && !data.containsKey("next-ca.crt"));
    assertEquals("Stable", cluster().getStatus().certificates);
    assertEquals(1, Certificates.trusted(rotated.internal()).size());
    assertEquals(List.of(Certificates.trusted(retiring.client()).get(0)), Certificates.trusted(rotated.client()));
    everyoneAcceptsEveryone(retiring, rotated);
    assertFalse(Certificates.accepts(rotated.client(), stable.server(), clock.instant()),
        "a certificate from the old CA is no longer accepted");
  }

  @Test
  void schedulersMeetPodSecurityRestrictedAndBaselineSandboxedWorkersMeetBaseline() throws Exception {
    applyExample("minimal.yaml");
    awaitSettled();
    var schedulers = await(Deployment.class, "build-scheduler").getSpec().getTemplate().getSpec();
    assertEquals(List.of(), PodSecurityStandards.violations(schedulers, PodSecurityStandards.Level.RESTRICTED));
    assertTrue(schedulers.getContainers().get(0).getSecurityContext().getReadOnlyRootFilesystem());
    // Full sandbox (the default): root with CAP_SYS_ADMIN, which even baseline refuses; the status says so.
    var full = await(StatefulSet.class, "build-worker").getSpec().getTemplate().getSpec();
    assertEquals(List.of("Capabilities: container worker adds SYS_ADMIN"),
        PodSecurityStandards.violations(full, PodSecurityStandards.Level.BASELINE));
    assertTrue(cluster().getStatus().sandbox.startsWith("Full: PID, mount and network namespaces"));

    edit(c -> c.getSpec().workers.sandbox = "Baseline");
    MockKubernetes.await("workers without CAP_SYS_ADMIN", () -> PodSecurityStandards.violations(get(StatefulSet.class,
        "build-worker").getSpec().getTemplate().getSpec(), PodSecurityStandards.Level.BASELINE).isEmpty() ? true : null);
    awaitSettled();
    assertTrue(cluster().getStatus().sandbox.startsWith("Baseline: unprivileged user, rlimits"), cluster().getStatus().sandbox);
    // Once workers run, the status shows the layers they report (what their probe found in the pod).
    admin.sandbox("build-worker-0", List.of("rlimits", "unprivileged user", "killed with the worker"));
    admin.sandbox("build-worker-1", List.of("rlimits", "unprivileged user", "killed with the worker"));
    admin.sandbox("other-worker-0", List.of());
    kube.client.apps().statefulSets().inNamespace(NS).withName("build-worker") // an event: reconciled, the layers read
        .editStatus(s -> { s.setStatus(new io.fabric8.kubernetes.api.model.apps.StatefulSetStatusBuilder()
            .withReplicas(3).withReadyReplicas(2).build()); return s; });
    MockKubernetes.await("the reported layers", () -> "Baseline: killed with the worker, rlimits, unprivileged user (as 2 workers report)"
        .equals(cluster().getStatus().sandbox) ? true : null);
    admin.sandbox("build-worker-1", List.of("rlimits"));
    edit(c -> c.getSpec().schedulers.replicas = 3);
    MockKubernetes.await("workers that differ", () -> ("Baseline: the workers differ: build-worker-0: killed with the worker, "
        + "rlimits, unprivileged user; build-worker-1: rlimits").equals(cluster().getStatus().sandbox) ? true : null);
    // Not restricted: the sandbox switches each action to an unprivileged user, which takes root.
    var baseline = get(StatefulSet.class, "build-worker").getSpec().getTemplate().getSpec();
    assertTrue(PodSecurityStandards.violations(baseline, PodSecurityStandards.Level.RESTRICTED)
        .contains("Running as Non-root user: container worker sets runAsUser 0"));
  }

  @Test
  void thePodSecurityCheckerFindsEachKindOfViolation() {
    var pod = new io.fabric8.kubernetes.api.model.PodSpecBuilder().withHostNetwork(true)
        .addNewVolume().withName("host").withNewHostPath().withPath("/").endHostPath().endVolume()
        .addNewContainer().withName("c").addNewPort().withContainerPort(80).withHostPort(80).endPort()
        .withNewSecurityContext().withPrivileged(true).withNewCapabilities().withAdd("NET_ADMIN").endCapabilities()
        .withNewSeccompProfile().withType("Unconfined").endSeccompProfile().endSecurityContext().endContainer().build();
    List<String> baseline = PodSecurityStandards.violations(pod, PodSecurityStandards.Level.BASELINE);
    assertEquals(6, baseline.size(), baseline.toString());
    List<String> restricted = PodSecurityStandards.violations(pod, PodSecurityStandards.Level.RESTRICTED);
    for (String control : List.of("Volume Types", "Privilege Escalation", "Running as Non-root", "Seccomp: container c must",
        "Capabilities: container c must drop ALL", "Capabilities: container c may add only")) {
      assertTrue(restricted.stream().anyMatch(v -> v.startsWith(control)), control + " in " + restricted);
    }
  }

  private void backupCredentials(String name) {
    kube.client.secrets().inNamespace(NS).resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
        .withNewMetadata().withName(name).endMetadata()
        .withStringData(Map.of("access-key-id", "AKIA", "secret-access-key", "secret")).build()).create();
  }

  @Test
  void schedulersWaitForTheBackupCredentialsTheyMount() throws Exception {
    applyExample("minimal.yaml");
    Deployment before = await(Deployment.class, "build-scheduler");
    edit(c -> {
      c.getSpec().backup.enabled = true;
      c.getSpec().backup.bucket = "cache";
      c.getSpec().backup.credentialsSecretName = "s3-keys";
    });
    Condition waiting = MockKubernetes.await("Ready naming the missing Secret", () -> {
      Condition ready = condition(Conditions.READY);
      return ready != null && ready.getMessage().contains("the schedulers wait: the Secret s3-keys") ? ready : null;
    });
    assertTrue(waiting.getMessage().contains("(backup.credentialsSecretName) does not exist"), waiting.getMessage());
    assertEquals(before.getSpec(), get(Deployment.class, "build-scheduler").getSpec(), "the running schedulers are left alone");
    assertNotNull(get(StatefulSet.class, "build-worker"), "the rest of the cluster is reconciled");

    backupCredentials("s3-keys");
    MockKubernetes.await("the schedulers mounting it", () -> get(Deployment.class, "build-scheduler").getSpec().getTemplate()
        .getSpec().getVolumes().stream().anyMatch(v -> v.getSecret() != null && "s3-keys".equals(v.getSecret().getSecretName()))
        ? true : null);
  }

  @Test
  void theFullExampleMountsTheUsersSecretsAndAsksCertManager() throws Exception {
    backupCredentials("build-backup-credentials");
    applyExample("full.yaml");
    awaitSettled(); // every dependent of this generation applied: nothing below reads a half-done state
    Deployment schedulers = await(Deployment.class, "build-scheduler");
    var volumes = schedulers.getSpec().getTemplate().getSpec().getVolumes().stream()
        .collect(java.util.stream.Collectors.toMap(v -> v.getName(), v -> v.getSecret() == null ? "" : v.getSecret().getSecretName()));
    assertEquals("build-tls", volumes.get("tls"));
    assertEquals("build-client-ca", volumes.get("client-ca"));
    assertEquals("build-tokens", volumes.get("tokens"));
    assertEquals("build-jwks", volumes.get("jwks"));
    assertEquals("build-backup-credentials", volumes.get("backup-credentials"));
    var certificate = MockKubernetes.await("a cert-manager Certificate", () -> kube.client
        .genericKubernetesResources(build.rex.operator.tls.CertManagerCertificate.CERTIFICATES)
        .inNamespace(NS).withName("build-tls").get());
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) certificate.getAdditionalProperties().get("spec");
    assertEquals(Map.of("name", "letsencrypt", "kind", "ClusterIssuer", "group", "cert-manager.io"), spec.get("issuerRef"));
    StatefulSet workers = await(StatefulSet.class, "build-worker");
    assertEquals("fast-ssd", workers.getSpec().getVolumeClaimTemplates().get(0).getSpec().getStorageClassName());
    assertEquals("Retain", workers.getSpec().getPersistentVolumeClaimRetentionPolicy().getWhenDeleted());
    // 6 x 1 cpu + 1 x 4 cpu; 6 x 2Gi + 16Gi + 2Gi for the process.
    var requests = workers.getSpec().getTemplate().getSpec().getContainers().get(0).getResources().getRequests();
    assertEquals(new Quantity("10000m"), requests.get("cpu"));
    assertEquals(new Quantity("30720Mi"), requests.get("memory"));
    assertEquals(2, await(PodDisruptionBudget.class, "build-worker").getSpec().getMaxUnavailable().getIntVal());
    assertEquals(List.of("rex-system", "monitoring"), adminNamespaces(await(NetworkPolicy.class, "build-worker"), 9091));
    assertEquals("nlb", await(Service.class, "build").getMetadata().getAnnotations()
        .get("service.beta.kubernetes.io/aws-load-balancer-type"));
  }

  @Test
  void deletingTheClusterLeavesTheOperatorRunning() throws Exception {
    applyExample("minimal.yaml");
    await(StatefulSet.class, "build-worker");
    // Deleted while its first reconciliation may still run: the status of the old resource must not
    // be patched onto the new one (in the mock server that corrupted it and stopped the watch).
    kube.client.resources(RemoteExecutionCluster.class).inNamespace(NS).withName("build").delete();
    MockKubernetes.await("deleted", () -> cluster() == null ? true : null);
    // The mock server has no garbage collector (the owner references above do that job); a new
    // cluster of the same name is made from scratch by the same operator.
    kube.client.apps().statefulSets().inNamespace(NS).withName("build-worker").delete();
    applyExample("minimal.yaml");
    MockKubernetes.await("the new cluster's workers", () -> get(StatefulSet.class, "build-worker"));
    awaitSettled();
    assertTrue(operator.healthy(), () -> "unhealthy event sources: " + operator.unhealthy());
  }
}
