package build.rex.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.rex.operator.api.RemoteExecutionCluster;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import build.rex.config.ConfigLoader;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The chart lints strictly and renders valid objects with default and non-default values. */
class HelmChartTest {
  @Test
  void theChartLintsStrictly() {
    LintResult result = new Helm(Chart.DIR).lint().strict().call();
    assertFalse(result.isFailed(), String.join("\n", result.getMessages()));
  }

  @Test
  void defaultValuesRenderTheOperatorWithClusterWideRbac() {
    List<HasMetadata> objects = Chart.render(Map.of());
    // The Role and RoleBinding: leader election on a Lease in the release's namespace.
    assertEquals(List.of("ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Role", "RoleBinding",
        "ServiceAccount"), objects.stream().map(HasMetadata::getKind).sorted().toList());
    assertEquals("rex-system", only(objects, io.fabric8.kubernetes.api.model.rbac.Role.class).getMetadata().getNamespace());
    Deployment deployment = only(objects, Deployment.class);
    var container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertEquals("ghcr.io/rex-build/rex-operator:0.1.0", container.getImage());
    assertEquals("rex-rex-operator", deployment.getSpec().getTemplate().getSpec().getServiceAccountName());
    assertEquals(1, deployment.getSpec().getReplicas());
    assertEquals("/readyz", container.getReadinessProbe().getHttpGet().getPath());
    assertEquals(List.of(), PodSecurityStandards.violations(deployment.getSpec().getTemplate().getSpec(),
        PodSecurityStandards.Level.RESTRICTED), "the operator's pod meets Pod Security restricted");
    // The operator's config in the ConfigMap is valid for the operator.
    OperatorSettings settings = ConfigLoader.parse(only(objects, ConfigMap.class).getData().get("operator.yaml"),
        OperatorSettings.class);
    assertEquals(List.of(), settings.namespaces);
    assertEquals("info", settings.logLevel);
    assertEquals("rex-system", settings.operatorNamespace, "the clusters' NetworkPolicies let the operator in");
    ClusterRoleBinding binding = only(objects, ClusterRoleBinding.class);
    assertEquals("rex-rex-operator", binding.getSubjects().get(0).getName());
    assertEquals("rex-system", binding.getSubjects().get(0).getNamespace());
    assertTrue(only(objects, ClusterRole.class).getRules().stream().noneMatch(rule -> rule.getVerbs().contains("*")
        || rule.getResources().contains("*")), "no wildcards");
  }

  @Test
  void otherValuesRenderNamespacedRbacMetricsAndACluster() {
    List<HasMetadata> objects = Chart.render(template -> template
        .set("image.repository", "registry.example.com/rex/operator").set("image.tag", "1.2.3")
        .set("resources.limits.memory", "1Gi")
        .set("watchNamespaces[0]", "team-a").set("watchNamespaces[1]", "team-b")
        .set("logLevel", "debug")
        .set("metrics.service.enabled", "true")
        .set("cluster.create", "true").set("cluster.name", "ci")
        .set("cluster.spec.workers.replicas", "5").set("cluster.spec.cas.replicationFactor", "3")
        .set("cluster.spec.workers.sandbox", "Baseline")
        .set("cluster.spec.workers.autoscale.enabled", "true").set("cluster.spec.workers.autoscale.minReplicas", "3")
        .set("cluster.spec.workers.autoscale.maxReplicas", "12")
        .set("cluster.spec.certificates.caValidity", "730d"));
    assertEquals(List.of("ConfigMap", "Deployment", "RemoteExecutionCluster", "Role", "Role", "Role", "RoleBinding",
        "RoleBinding", "RoleBinding", "Service", "ServiceAccount"), objects.stream().map(HasMetadata::getKind).sorted().toList());
    Deployment deployment = only(objects, Deployment.class);
    var container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertEquals("registry.example.com/rex/operator:1.2.3", container.getImage());
    assertEquals("1Gi", container.getResources().getLimits().get("memory").toString());
    // A Role per watched namespace, and the leader-election one in the release's.
    assertEquals(List.of("rex-system", "team-a", "team-b"), objects.stream().filter(o -> o instanceof Role)
        .map(o -> o.getMetadata().getNamespace()).sorted().toList());
    assertEquals(List.of("rex-system", "team-a", "team-b"), objects.stream().filter(o -> o instanceof RoleBinding)
        .map(o -> o.getMetadata().getNamespace()).sorted().toList());
    OperatorSettings settings = ConfigLoader.parse(only(objects, ConfigMap.class).getData().get("operator.yaml"),
        OperatorSettings.class);
    assertEquals(List.of("team-a", "team-b"), settings.namespaces);
    assertEquals("debug", settings.logLevel);
    assertEquals(8080, only(objects, Service.class).getSpec().getPorts().get(0).getPort());
    RemoteExecutionCluster cluster = only(objects, RemoteExecutionCluster.class);
    assertEquals("ci", cluster.getMetadata().getName());
    assertEquals(5, cluster.getSpec().workers.replicas);
    assertEquals(3, cluster.getSpec().cas.replicationFactor);
    assertEquals("Baseline", cluster.getSpec().workers.sandbox);
    assertTrue(cluster.getSpec().workers.autoscale.enabled);
    assertEquals(12, cluster.getSpec().workers.autoscale.maxReplicas);
    assertEquals("730d", cluster.getSpec().certificates.caValidity);
    assertTrue(build.rex.operator.reconcile.SpecProblems.of(cluster.getSpec()).isEmpty());
    only(objects, ServiceAccount.class);
  }

  @Test
  void monitoringValuesRenderServiceMonitorsAndTheDashboard() throws Exception {
    List<HasMetadata> objects = Chart.render(template -> template
        .set("metrics.service.enabled", "true")
        .set("metrics.serviceMonitor.enabled", "true").set("metrics.serviceMonitor.labels.release", "prometheus")
        .set("grafana.dashboard.enabled", "true").set("grafana.dashboard.namespace", "monitoring"));
    List<HasMetadata> monitors = objects.stream().filter(o -> o.getKind().equals("ServiceMonitor")).toList();
    assertEquals(2, monitors.size(), "the clusters' schedulers and workers, and the operator");
    HasMetadata clusters = monitors.stream().filter(m -> m.getMetadata().getName().endsWith("-clusters")).findFirst().orElseThrow();
    assertEquals("prometheus", clusters.getMetadata().getLabels().get("release"));
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) ((io.fabric8.kubernetes.api.model.GenericKubernetesResource) clusters)
        .getAdditionalProperties().get("spec");
    assertEquals(Map.of("app.kubernetes.io/name", "rex", "app.kubernetes.io/managed-by", build.rex.operator.resources.Labels.OPERATOR),
        ((Map<?, ?>) spec.get("selector")).get("matchLabels"), "what the operator labels its Services with");
    assertEquals("admin", ((Map<?, ?>) ((List<?>) spec.get("endpoints")).get(0)).get("port"),
        "the port name of the schedulers' and workers' Services");
    ConfigMap dashboard = objects.stream().filter(o -> o instanceof ConfigMap && o.getMetadata().getName().endsWith("-dashboard"))
        .map(ConfigMap.class::cast).findFirst().orElseThrow();
    assertEquals("monitoring", dashboard.getMetadata().getNamespace());
    assertEquals("1", dashboard.getMetadata().getLabels().get("grafana_dashboard"));
    assertEquals(java.nio.file.Files.readString(Chart.DIR.resolve("dashboards/rex.json")).strip(),
        dashboard.getData().get("rex.json").strip(), "the dashboard file, whole");
  }

  @Test
  void rbacRulesCoverTheCallsTheyAreMeantFor() {
    // The mapping used by the RBAC check in ClusterReconcilerTest.
    assertEquals(List.of("apps", "deployments", "update"),
        List.of(Chart.access("PUT /apis/apps/v1/namespaces/ns/deployments/build-scheduler")));
    assertEquals(List.of("rex.build", "remoteexecutionclusters/status", "patch"),
        List.of(Chart.access("PATCH /apis/rex.build/v1alpha1/namespaces/ns/remoteexecutionclusters/build/status")));
    assertEquals(List.of("", "secrets", "watch"), List.of(Chart.access("GET /api/v1/secrets?watch")));
    assertEquals(List.of("", "pods", "get"), List.of(Chart.access("GET /api/v1/namespaces/ns/pods/build-worker-3")));
    assertEquals(List.of(), Chart.uncovered(List.of("GET /api/v1/namespaces/ns/pods/build-worker-3")));
    assertEquals(1, Chart.uncovered(List.of("DELETE /api/v1/namespaces/ns/secrets/build-ca")).size(),
        "the operator never deletes Secrets, so it may not");
  }

  private static <T> T only(List<HasMetadata> objects, Class<T> type) {
    List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
    assertEquals(1, found.size(), type.getSimpleName());
    return found.get(0);
  }
}
