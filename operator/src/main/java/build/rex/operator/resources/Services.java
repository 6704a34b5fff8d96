package build.rex.operator.resources;

import build.rex.operator.api.RemoteExecutionCluster;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.util.List;

/** The three Services of a cluster. */
public final class Services {
  private Services() {}

  /** Where clients connect: the schedulers' client port, by default behind a LoadBalancer. */
  public static final class Client extends ClusterDependent<Service> {
    public Client() {
      super(Service.class, Labels.SCHEDULER, ClusterNames::clientService);
    }

    @Override
    protected Service desired(ClusterPlan plan, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
      var metadata = metadata(plan);
      metadata.setAnnotations(plan.spec.service.annotations);
      return new ServiceBuilder().withMetadata(metadata)
          .withNewSpec()
          .withType(plan.spec.service.type)
          .withSelector(Labels.selector(plan.names, Labels.SCHEDULER))
          .withPorts(port("grpcs", plan.spec.service.port, ClusterNames.CLIENT_PORT))
          .endSpec().build();
    }
  }

  /**
   * Headless: its DNS name lists every scheduler, ready or not, so workers register with
   * schedulers that wait for a worker before they call themselves ready.
   */
  public static final class SchedulerPeers extends ClusterDependent<Service> {
    public SchedulerPeers() {
      super(Service.class, Labels.SCHEDULER, ClusterNames::schedulerPeersService);
    }

    @Override
    protected Service desired(ClusterPlan plan, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
      return headless(metadata(plan), plan, Labels.SCHEDULER, List.of(
          port("internal", ClusterNames.SCHEDULER_INTERNAL_PORT, ClusterNames.SCHEDULER_INTERNAL_PORT),
          port("admin", ClusterNames.SCHEDULER_ADMIN_PORT, ClusterNames.SCHEDULER_ADMIN_PORT)));
    }
  }

  /** The workers' StatefulSet Service: gives each worker pod a stable DNS name. */
  public static final class WorkerPeers extends ClusterDependent<Service> {
    public WorkerPeers() {
      super(Service.class, Labels.WORKER, ClusterNames::workerPeersService);
    }

    @Override
    protected Service desired(ClusterPlan plan, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
      return headless(metadata(plan), plan, Labels.WORKER, List.of(
          port("grpc", ClusterNames.WORKER_PORT, ClusterNames.WORKER_PORT),
          port("admin", ClusterNames.WORKER_ADMIN_PORT, ClusterNames.WORKER_ADMIN_PORT)));
    }
  }

  private static Service headless(io.fabric8.kubernetes.api.model.ObjectMeta metadata, ClusterPlan plan, String component,
      List<ServicePort> ports) {
    return new ServiceBuilder().withMetadata(metadata)
        .withNewSpec()
        .withClusterIP("None")
        .withPublishNotReadyAddresses(true)
        .withSelector(Labels.selector(plan.names, component))
        .withPorts(ports)
        .endSpec().build();
  }

  private static ServicePort port(String name, int port, int targetPort) {
    return new ServicePortBuilder().withName(name).withProtocol("TCP").withPort(port)
        .withTargetPort(new IntOrString(targetPort)).build();
  }
}
