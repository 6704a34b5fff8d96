package build.rex.operator.resources;

import build.rex.operator.api.RemoteExecutionCluster;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRuleBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who may reach which port of a component's pods. Clients: anyone (the load balancer forwards
 * them). Internal ports (mutual TLS between schedulers and workers): the cluster's own pods.
 * Admin ports, which have no authentication and can drain workers: the operator's namespace and
 * {@code spec.network.adminFrom}, nobody else. Kubelet probes are not subject to these.
 */
public final class NetworkPolicies {
  private NetworkPolicies() {}

  /** Made while spec.network.policies is on; turned off, the ones made are deleted. */
  public static final class Enabled implements Condition<NetworkPolicy, RemoteExecutionCluster> {
    @Override
    public boolean isMet(DependentResource<NetworkPolicy, RemoteExecutionCluster> dependent,
        RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
      return primary.getSpec().network.policies;
    }
  }

  public static final class Scheduler extends ComponentPolicy {
    public Scheduler() {
      super(Labels.SCHEDULER, ClusterNames::schedulerNetworkPolicy, ClusterNames.CLIENT_PORT,
          ClusterNames.SCHEDULER_INTERNAL_PORT, ClusterNames.SCHEDULER_ADMIN_PORT);
    }
  }

  public static final class Worker extends ComponentPolicy {
    public Worker() {
      super(Labels.WORKER, ClusterNames::workerNetworkPolicy, null, ClusterNames.WORKER_PORT,
          ClusterNames.WORKER_ADMIN_PORT);
    }
  }

  /** One component's policy; a subclass per component, as JOSDK tells dependents apart by class. */
  public abstract static class ComponentPolicy extends ClusterDependent<NetworkPolicy> {
    private final String component;
    private final Integer clientPort;
    private final int internalPort;
    private final int adminPort;

    ComponentPolicy(String component, java.util.function.Function<ClusterNames, String> naming, Integer clientPort,
        int internalPort, int adminPort) {
      super(NetworkPolicy.class, component, naming);
      this.component = component;
      this.clientPort = clientPort;
      this.internalPort = internalPort;
      this.adminPort = adminPort;
    }

    @Override
    protected NetworkPolicy desired(ClusterPlan plan, RemoteExecutionCluster primary,
        Context<RemoteExecutionCluster> context) {
      List<NetworkPolicyIngressRule> rules = new ArrayList<>();
      if (clientPort != null) {
        rules.add(new NetworkPolicyIngressRuleBuilder().addNewPort().withPort(new IntOrString(clientPort))
            .withProtocol("TCP").endPort().build());
      }
      rules.add(fromClusterPods(plan, internalPort));
      adminRule(plan, adminPort).ifPresent(rules::add);
      return policy(plan, component, metadata(plan), rules);
    }
  }

  private static NetworkPolicy policy(ClusterPlan plan, String component, io.fabric8.kubernetes.api.model.ObjectMeta metadata,
      List<NetworkPolicyIngressRule> rules) {
    return new NetworkPolicyBuilder().withMetadata(metadata)
        .withNewSpec()
        .withNewPodSelector().withMatchLabels(Labels.selector(plan.names, component)).endPodSelector()
        .withPolicyTypes("Ingress")
        .withIngress(rules)
        .endSpec().build();
  }

  /** Schedulers and workers of this cluster, which talk to each other over mutual TLS. */
  private static NetworkPolicyIngressRule fromClusterPods(ClusterPlan plan, int port) {
    Map<String, String> cluster = new LinkedHashMap<>(Labels.selector(plan.names, Labels.SCHEDULER));
    cluster.remove(Labels.COMPONENT);
    return new NetworkPolicyIngressRuleBuilder()
        .addNewPort().withPort(new IntOrString(port)).withProtocol("TCP").endPort()
        .addToFrom(new NetworkPolicyPeerBuilder().withNewPodSelector().withMatchLabels(cluster).endPodSelector().build())
        .build();
  }

  /** Absent when no namespace may reach the port: a rule without sources would let in everyone. */
  private static java.util.Optional<NetworkPolicyIngressRule> adminRule(ClusterPlan plan, int port) {
    Set<String> namespaces = new LinkedHashSet<>();
    if (plan.settings.operatorNamespace != null && !plan.settings.operatorNamespace.isBlank()) {
      namespaces.add(plan.settings.operatorNamespace);
    }
    namespaces.addAll(plan.spec.network.adminFrom);
    if (namespaces.isEmpty()) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(new NetworkPolicyIngressRuleBuilder()
        .addNewPort().withPort(new IntOrString(port)).withProtocol("TCP").endPort()
        .addToFrom(new NetworkPolicyPeerBuilder().withNamespaceSelector(new LabelSelectorBuilder()
            .withMatchExpressions(new LabelSelectorRequirementBuilder().withKey("kubernetes.io/metadata.name")
                .withOperator("In").withValues(List.copyOf(namespaces)).build())
            .build()).build())
        .build());
  }
}
