package build.rex.operator.reconcile;

import build.rex.operator.resources.ClusterPlan;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;

/** The address clients use, as Bazel's --remote_executor takes it; empty while there is none. */
final class ClientEndpoint {
  private ClientEndpoint() {}

  static String of(ClusterPlan plan, Service service) {
    int port = plan.spec.service.port;
    if (service == null) {
      return "";
    }
    switch (plan.spec.service.type) {
      case "LoadBalancer" -> {
        var balancer = service.getStatus() == null ? null : service.getStatus().getLoadBalancer();
        if (balancer == null || balancer.getIngress() == null || balancer.getIngress().isEmpty()) {
          return "";
        }
        LoadBalancerIngress ingress = balancer.getIngress().get(0);
        String host = ingress.getHostname() != null ? ingress.getHostname() : ingress.getIp();
        return host == null ? "" : "grpcs://" + host + ":" + port;
      }
      case "NodePort" -> {
        Integer nodePort = service.getSpec().getPorts().stream().map(ServicePort::getNodePort)
            .filter(p -> p != null).findFirst().orElse(null);
        return nodePort == null ? "" : "grpcs://<node address>:" + nodePort;
      }
      default -> {
        return "grpcs://" + plan.names.clientService() + "." + plan.names.namespace() + ".svc:" + port;
      }
    }
  }
}
