package build.rex.operator.reconcile;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.api.RemoteExecutionClusterSpec;
import build.rex.operator.api.RemoteExecutionClusterStatus;
import build.rex.operator.resources.BackupCredentials;
import build.rex.operator.resources.ClusterPlan;
import build.rex.operator.resources.ClusterWarnings;
import build.rex.operator.resources.SchedulerDeployment;
import build.rex.operator.resources.WorkerStatefulSet;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import build.rex.operator.scaling.SchedulerAdmin;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Fills a cluster's status from a reconciliation: counts, the endpoint, what it waits for, and why. */
final class ClusterStatusReport {
  static final String WORKERS_SCALED = "WorkersScaled";
  private final OperatorMetrics metrics;
  private final ClusterEvents events;
  private final SchedulerAdmin admin;

  ClusterStatusReport(OperatorMetrics metrics, ClusterEvents events, SchedulerAdmin admin) {
    this.metrics = metrics;
    this.events = events;
    this.admin = admin;
  }

  /** The status after the workflow ran; true when the cluster is ready. */
  boolean applied(ClusterPlan plan, RemoteExecutionCluster cluster, Context<RemoteExecutionCluster> context) {
    RemoteExecutionClusterStatus status = cluster.getStatus();
    Long generation = cluster.getMetadata().getGeneration();
    status.desiredSchedulers = plan.spec.schedulers.replicas;
    status.readySchedulers = SchedulerDeployment.readyReplicas(context.getSecondaryResource(Deployment.class));
    Integer previousDesired = status.desiredWorkers;
    status.desiredWorkers = plan.autoscale == null ? plan.spec.workers.replicas : plan.autoscale.replicas();
    status.readyWorkers = WorkerStatefulSet.readyReplicas(context.getSecondaryResource(StatefulSet.class));
    status.schedulers = status.readySchedulers + "/" + status.desiredSchedulers;
    status.workers = status.readyWorkers + "/" + status.desiredWorkers;
    status.endpoint = ClientEndpoint.of(plan, context.getSecondaryResourcesAsStream(Service.class)
        .filter(service -> plan.names.clientService().equals(service.getMetadata().getName())).findFirst().orElse(null));
    status.scaling = plan.scaling.waitingFor();
    status.sandbox = sandbox(plan, status.readyWorkers);
    status.certificates = plan.authorities.describe();
    autoscaling(plan, cluster, previousDesired);

    Condition degraded = Conditions.find(status, Conditions.DEGRADED);
    if (degraded == null || "True".equals(degraded.getStatus())) {
      Conditions.set(status, Conditions.DEGRADED, false, "AsSpecified", "the spec is applied", generation);
    }
    List<String> waiting = new ArrayList<>();
    BackupCredentials.missing(cluster, context).ifPresent(missing -> waiting.add("the schedulers wait: " + missing));
    if (status.readySchedulers < status.desiredSchedulers) {
      waiting.add(status.schedulers + " schedulers ready");
    }
    if (status.readyWorkers < plan.workerReplicas()) {
      waiting.add(status.readyWorkers + "/" + plan.workerReplicas() + " workers ready");
    }
    if (plan.scaling.waitingFor() != null) {
      waiting.add(plan.scaling.waitingFor());
    }
    if (status.endpoint.isEmpty()) {
      waiting.add("the " + plan.spec.service.type + " Service has no address yet");
    }
    boolean ready = waiting.isEmpty();
    Conditions.set(status, Conditions.READY, ready, ready ? "ClusterReady" : "Waiting",
        ready ? "serving at " + status.endpoint : String.join("; ", waiting), generation);
    Conditions.set(status, Conditions.PROGRESSING, !ready,
        ready ? "Done" : plan.scaling.waitingFor() != null ? "Draining" : "RollingOut",
        ready ? "nothing left to do" : String.join("; ", waiting), generation);
    return ready;
  }

  /** Problems the dependents worked around, as Warning Events. */
  void warnings(ClusterPlan plan, RemoteExecutionCluster cluster, ClusterWarnings warnings) {
    warnings.all().forEach((reason, message) -> {
      events.warning(cluster, reason, message);
      metrics.action(plan.names.namespace(), plan.names.cluster(), "reported", reason + ": " + message);
    });
  }

  /** The autoscaler's view: desired against actual and why, a condition, and an Event when the count moves. */
  private void autoscaling(ClusterPlan plan, RemoteExecutionCluster cluster, Integer previousDesired) {
    RemoteExecutionClusterStatus status = cluster.getStatus();
    if (plan.autoscale == null) {
      status.autoscaling = null;
      status.conditions.removeIf(condition -> WORKERS_SCALED.equals(condition.getType()));
      return;
    }
    int desired = plan.autoscale.replicas();
    int actual = plan.workerReplicas();
    status.autoscaling = actual + " -> " + desired + " (queue asks " + plan.autoscale.recommended() + ")";
    String reason = desired > actual ? "ScalingUp" : desired < actual ? "ScalingDown" : "AtTarget";
    Conditions.set(status, WORKERS_SCALED, desired == actual, reason, plan.autoscale.reason(),
        cluster.getMetadata().getGeneration());
    if (previousDesired != null && previousDesired != desired) {
      events.normal(cluster, desired > previousDesired ? "ScalingUp" : "ScalingDown",
          "workers " + previousDesired + " -> " + desired + ": " + plan.autoscale.reason());
      metrics.action(plan.names.namespace(), plan.names.cluster(), "autoscaled",
          "workers " + previousDesired + " -> " + desired + ": " + plan.autoscale.reason());
    }
  }

  /**
   * The sandbox mode and the layers the workers report their actions run in (each worker probes
   * at start and uses what the kernel and the pod allow); before any worker is ready, the layers
   * the mode is meant to give.
   */
  private String sandbox(ClusterPlan plan, int readyWorkers) {
    String mode = plan.spec.workers.sandbox;
    if (readyWorkers > 0) {
      try {
        Map<List<String>, List<String>> workersByLayers = new TreeMap<>(java.util.Comparator.comparing(Object::toString));
        admin.sandboxLayers(plan.schedulerAdmin).forEach((worker, layers) -> {
          if (worker.startsWith(plan.names.workerStatefulSet() + "-")) {
            workersByLayers.computeIfAbsent(layers.stream().sorted().toList(), key -> new ArrayList<>()).add(worker);
          }
        });
        if (workersByLayers.size() == 1) {
          var only = workersByLayers.entrySet().iterator().next();
          return mode + ": " + layers(only.getKey()) + " (as " + only.getValue().size()
              + (only.getValue().size() == 1 ? " worker reports)" : " workers report)");
        }
        if (!workersByLayers.isEmpty()) {
          List<String> groups = new ArrayList<>();
          workersByLayers.forEach((layers, workers) -> groups.add(String.join(", ", workers) + ": " + layers(layers)));
          return mode + ": the workers differ: " + String.join("; ", groups);
        }
      } catch (IOException e) {
        // Reported once the schedulers answer; the mode's own layers meanwhile.
      }
    }
    return mode + ": " + (RemoteExecutionClusterSpec.SANDBOX_BASELINE.equals(mode)
        ? "unprivileged user, rlimits, killed with the worker (no namespaces or cgroups: they need CAP_SYS_ADMIN)"
        : "PID, mount and network namespaces, a cgroup per action, unprivileged user, rlimits, killed with the worker")
        + " (as configured; not reported by the workers yet)";
  }

  private static String layers(List<String> layers) {
    return layers.isEmpty() ? "no sandbox layers" : String.join(", ", layers);
  }

  /** The spec cannot be applied: the running cluster is left alone and the status says why. */
  void invalid(RemoteExecutionCluster cluster, List<String> problems) {
    String message = "the spec cannot be applied, so the cluster runs as it was: " + String.join("; ", problems);
    degraded(cluster, "InvalidSpec", message);
    Conditions.set(cluster.getStatus(), Conditions.PROGRESSING, false, "InvalidSpec", "waiting for a corrected spec",
        cluster.getMetadata().getGeneration());
  }

  void degraded(RemoteExecutionCluster cluster, String reason, String message) {
    RemoteExecutionClusterStatus status = cluster.getStatus();
    Condition previous = Conditions.find(status, Conditions.DEGRADED);
    if (previous == null || !message.equals(previous.getMessage())) {
      events.warning(cluster, reason, message);
      metrics.action(cluster.getMetadata().getNamespace(), cluster.getMetadata().getName(), "reported", reason + ": " + message);
    }
    Long generation = cluster.getMetadata().getGeneration();
    Conditions.set(status, Conditions.DEGRADED, true, reason, message, generation);
    Conditions.set(status, Conditions.READY, false, reason, message, generation);
  }
}
