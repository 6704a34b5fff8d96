package build.rex.operator.reconcile;

import build.rex.operator.OperatorSettings;
import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.api.RemoteExecutionClusterSpec;
import build.rex.operator.api.RemoteExecutionClusterStatus;
import build.rex.operator.resources.ClusterNames;
import build.rex.operator.resources.ClusterPlan;
import build.rex.operator.resources.ConfigFiles;
import build.rex.operator.resources.ConfigMaps;
import build.rex.operator.resources.DisruptionBudgets;
import build.rex.operator.resources.NetworkPolicies;
import build.rex.operator.resources.SchedulerDeployment;
import build.rex.operator.resources.Services;
import build.rex.operator.resources.WorkerStatefulSet;
import build.rex.operator.scaling.WorkerScaling;
import build.rex.operator.tls.CaSecret;
import build.rex.operator.tls.CertManagerCertificate;
import build.rex.operator.tls.CertificateAuthorities;
import build.rex.operator.tls.ClientTlsSecret;
import build.rex.operator.tls.InternalTlsSecret;
import build.rex.operator.tls.ServerTlsSecret;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceUtils;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Turns a RemoteExecutionCluster into its objects and keeps them so: certificates first (the
 * pods mount them), then configs, Services, the schedulers, the workers (through the scale-down
 * plan) and the disruption budgets; then the status. Every step is idempotent, nothing is kept
 * in memory between runs, and a bad spec leaves the running cluster alone.
 */
@ControllerConfiguration(name = "rex-cluster",
    maxReconciliationInterval = @MaxReconciliationInterval(interval = 10, timeUnit = TimeUnit.MINUTES))
public final class ClusterReconciler implements Reconciler<RemoteExecutionCluster> {
  private final OperatorSettings settings;
  private final OperatorMetrics metrics;
  private final WorkerScaling scaling;
  private final ClusterEvents events;

  private final CaSecret caSecret = new CaSecret();
  private final ServerTlsSecret serverTls = new ServerTlsSecret();
  private final InternalTlsSecret internalTls = new InternalTlsSecret();
  private final ClientTlsSecret clientTls = new ClientTlsSecret();
  private final ConfigMaps.Scheduler schedulerConfig = new ConfigMaps.Scheduler();
  private final ConfigMaps.Worker workerConfig = new ConfigMaps.Worker();
  private final Services.Client clientService = new Services.Client();
  private final Services.SchedulerPeers schedulerPeers = new Services.SchedulerPeers();
  private final Services.WorkerPeers workerPeers = new Services.WorkerPeers();
  private final SchedulerDeployment schedulers = new SchedulerDeployment();
  private final WorkerStatefulSet workers = new WorkerStatefulSet();
  private final DisruptionBudgets.Scheduler schedulerBudget = new DisruptionBudgets.Scheduler();
  private final DisruptionBudgets.Worker workerBudget = new DisruptionBudgets.Worker();
  private final NetworkPolicies.Scheduler schedulerPolicy = new NetworkPolicies.Scheduler();
  private final NetworkPolicies.Worker workerPolicy = new NetworkPolicies.Worker();

  public ClusterReconciler(OperatorSettings settings, OperatorMetrics metrics, WorkerScaling scaling, ClusterEvents events) {
    this.settings = settings;
    this.metrics = metrics;
    this.scaling = scaling;
    this.events = events;
  }

  @Override
  public List<EventSource<?, RemoteExecutionCluster>> prepareEventSources(EventSourceContext<RemoteExecutionCluster> context) {
    return EventSourceUtils.dependentEventSources(context, caSecret, serverTls, internalTls, clientTls, schedulerConfig,
        workerConfig, clientService, schedulerPeers, workerPeers, schedulers, workers, schedulerBudget, workerBudget,
        schedulerPolicy, workerPolicy);
  }

  @Override
  public UpdateControl<RemoteExecutionCluster> reconcile(RemoteExecutionCluster cluster,
      Context<RemoteExecutionCluster> context) {
    long started = System.nanoTime();
    RemoteExecutionClusterStatus status = cluster.getStatus() != null ? cluster.getStatus() : new RemoteExecutionClusterStatus();
    cluster.setStatus(status);
    Long generation = cluster.getMetadata().getGeneration();
    status.observedGeneration = generation;

    List<String> problems = SpecProblems.of(cluster.getSpec());
    if (!problems.isEmpty()) {
      String message = "the spec cannot be applied, so the cluster runs as it was: " + String.join("; ", problems);
      degraded(cluster, "InvalidSpec", message);
      Conditions.set(status, Conditions.PROGRESSING, false, "InvalidSpec", "waiting for a corrected spec", generation);
      metrics.reconciled("invalid", Duration.ofNanos(System.nanoTime() - started));
      ClusterStatusWriter.write(cluster, context);
      return UpdateControl.noUpdate();
    }

    ClusterPlan plan = new ClusterPlan(cluster, settings, metrics);
    plan.attachTo(context);
    CertificateAuthorities authorities = certificates(plan, cluster, context);
    plan.schedulerConfigHash = hash(ConfigFiles.scheduler(plan.names, plan.spec, settings.logLevel),
        authorities.publicCa().certificatePem(), authorities.internalCa().certificatePem(), plan.serverTlsSecret(),
        String.valueOf(plan.spec.auth.clientCaSecretName), String.valueOf(plan.spec.auth.tokensSecretName),
        plan.spec.auth.jwt == null ? "" : plan.spec.auth.jwt.jwksSecretName,
        String.valueOf(plan.spec.backup.credentialsSecretName));
    plan.workerConfigHash = hash(ConfigFiles.worker(plan.names, plan.spec, settings.logLevel),
        authorities.internalCa().certificatePem());

    schedulerConfig.reconcile(cluster, context);
    workerConfig.reconcile(cluster, context);
    clientService.reconcile(cluster, context);
    schedulerPeers.reconcile(cluster, context);
    workerPeers.reconcile(cluster, context);
    schedulers.reconcile(cluster, context);

    boolean force = "true".equals(annotation(cluster, RemoteExecutionCluster.FORCE_SCALE_DOWN));
    Integer current = workers.getSecondaryResource(cluster, context).map(set -> set.getSpec().getReplicas())
        .orElseGet(() -> WorkerPods.runningWithoutStatefulSet(plan, context));
    WorkerScaling.Decision decision = scaling.decide(plan.names, current, plan.spec.workers.replicas, force,
        schedulerAdmin(plan.names), ordinal -> WorkerPods.exists(context, plan.names.workerPod(ordinal)));
    if (force && current != null && decision.replicas() < current) {
      metrics.action(plan.names.namespace(), plan.names.cluster(), "forced scale-down",
          "from " + current + " to " + decision.replicas() + " workers without draining");
    }
    restartWorkersKeptAfterDrain(plan, status, decision, context);
    plan.workerReplicas = decision.replicas();
    workers.reconcile(cluster, context);
    plan.warnings.forEach((reason, message) -> {
      events.warning(cluster, reason, message);
      metrics.action(plan.names.namespace(), plan.names.cluster(), "reported", reason + ": " + message);
    });
    schedulerBudget.reconcile(cluster, context);
    workerBudget.reconcile(cluster, context);
    if (plan.spec.network.policies) {
      schedulerPolicy.reconcile(cluster, context);
      workerPolicy.reconcile(cluster, context);
    } else {
      // Turned off: remove the ones made while it was on (from the cache; no call otherwise).
      for (var policy : List.of(schedulerPolicy, workerPolicy)) {
        policy.getSecondaryResource(cluster, context).ifPresent(existing -> {
          metrics.action(plan.names.namespace(), plan.names.cluster(), "deleted",
              "NetworkPolicy " + existing.getMetadata().getName());
          policy.delete(cluster, context);
        });
      }
    }

    boolean ready = report(plan, cluster, context, decision);
    metrics.reconciled("ok", Duration.ofNanos(System.nanoTime() - started));
    if (ClusterStatusWriter.goneFromCache(cluster, context)) {
      return UpdateControl.noUpdate(); // deleted meanwhile; see updateErrorStatus
    }
    if (force && decision.replicas() < (current == null ? 0 : current)) {
      // One-shot: a forced scale-down done, the next one drains again.
      context.getClient().resources(RemoteExecutionCluster.class).inNamespace(plan.names.namespace())
          .withName(plan.names.cluster()).edit(latest -> {
            latest.getMetadata().getAnnotations().remove(RemoteExecutionCluster.FORCE_SCALE_DOWN);
            return latest;
          });
    }
    ClusterStatusWriter.write(cluster, context);
    UpdateControl<RemoteExecutionCluster> control = UpdateControl.noUpdate();
    if (decision.waitingFor() != null) {
      return control.rescheduleAfter(Duration.ofSeconds(settings.drainPollSeconds));
    }
    return ready ? control : control.rescheduleAfter(Duration.ofSeconds(30));
  }

  @Override
  public ErrorStatusUpdateControl<RemoteExecutionCluster> updateErrorStatus(RemoteExecutionCluster cluster,
      Context<RemoteExecutionCluster> context, Exception e) {
    metrics.error();
    if (ClusterStatusWriter.deletedMeanwhile(cluster, context, e)) {
      // Deleted (and perhaps made again) while this reconciliation ran: the status belongs to a
      // resource that no longer exists, and a patch computed against it must not reach its successor.
      return ErrorStatusUpdateControl.noStatusUpdate();
    }
    if (cluster.getStatus() == null) {
      cluster.setStatus(new RemoteExecutionClusterStatus());
    }
    String message = "reconciliation failed and is retried: " + e.getMessage();
    degraded(cluster, "ReconcileError", message);
    try {
      ClusterStatusWriter.write(cluster, context);
    } catch (RuntimeException statusFailure) {
      // The reconciliation is retried either way; its error is the one worth reporting.
      e.addSuppressed(statusFailure);
    }
    return ErrorStatusUpdateControl.noStatusUpdate();
  }

  private CertificateAuthorities certificates(ClusterPlan plan, RemoteExecutionCluster cluster,
      Context<RemoteExecutionCluster> context) {
    Secret cas = caSecret.reconcile(cluster, context).getSingleResource()
        .orElseThrow(() -> new IllegalStateException("the CA Secret " + plan.names.caSecret() + " was not made"));
    CertificateAuthorities authorities = CaSecret.read(cas.getData())
        .orElseThrow(() -> new IllegalStateException("the CA Secret " + plan.names.caSecret() + " is unreadable"));
    authorities.attachTo(context);
    internalTls.reconcile(cluster, context);
    clientTls.reconcile(cluster, context);
    switch (plan.spec.tls.mode) {
      case RemoteExecutionClusterSpec.TLS_GENERATED -> serverTls.reconcile(cluster, context);
      case RemoteExecutionClusterSpec.TLS_CERT_MANAGER -> CertManagerCertificate.apply(context.getClient(), plan, cluster);
      default -> { } // TLS_SECRET: the user's Secret, mounted as it is
    }
    return authorities;
  }

  /** Workers asked to drain for a scale-down that was then called off restart, so they take work again. */
  private void restartWorkersKeptAfterDrain(ClusterPlan plan, RemoteExecutionClusterStatus status,
      WorkerScaling.Decision decision, Context<RemoteExecutionCluster> context) {
    if (status.drainingWorkers != null) {
      for (String worker : status.drainingWorkers) {
        int ordinal = Integer.parseInt(worker.substring(worker.lastIndexOf('-') + 1));
        if (ordinal < decision.replicas() && !decision.draining().contains(worker)) {
          context.getClient().pods().inNamespace(plan.names.namespace()).withName(worker).delete();
          metrics.action(plan.names.namespace(), plan.names.cluster(), "restarted",
              "Pod " + worker + " (drained for a scale-down that was called off)");
        }
      }
    }
    status.drainingWorkers = decision.waitingFor() == null ? null : decision.draining();
  }

  private boolean report(ClusterPlan plan, RemoteExecutionCluster cluster, Context<RemoteExecutionCluster> context,
      WorkerScaling.Decision decision) {
    RemoteExecutionClusterStatus status = cluster.getStatus();
    Long generation = cluster.getMetadata().getGeneration();
    status.desiredSchedulers = plan.spec.schedulers.replicas;
    status.readySchedulers = schedulers.getSecondaryResource(cluster, context).map(Deployment::getStatus)
        .map(s -> s.getReadyReplicas() == null ? 0 : s.getReadyReplicas()).orElse(0);
    status.desiredWorkers = plan.spec.workers.replicas;
    status.readyWorkers = workers.getSecondaryResource(cluster, context).map(StatefulSet::getStatus)
        .map(s -> s.getReadyReplicas() == null ? 0 : s.getReadyReplicas()).orElse(0);
    status.schedulers = status.readySchedulers + "/" + status.desiredSchedulers;
    status.workers = status.readyWorkers + "/" + status.desiredWorkers;
    status.endpoint = ClientEndpoint.of(plan, clientService.getSecondaryResource(cluster, context).orElse(null));
    status.scaling = decision.waitingFor();

    Condition degraded = Conditions.find(status, Conditions.DEGRADED);
    if (degraded == null || "True".equals(degraded.getStatus())) {
      Conditions.set(status, Conditions.DEGRADED, false, "AsSpecified", "the spec is applied", generation);
    }
    List<String> waiting = new ArrayList<>();
    if (status.readySchedulers < status.desiredSchedulers) {
      waiting.add(status.schedulers + " schedulers ready");
    }
    if (status.readyWorkers < plan.workerReplicas) {
      waiting.add(status.readyWorkers + "/" + plan.workerReplicas + " workers ready");
    }
    if (decision.waitingFor() != null) {
      waiting.add(decision.waitingFor());
    }
    if (status.endpoint.isEmpty()) {
      waiting.add("the " + plan.spec.service.type + " Service has no address yet");
    }
    boolean ready = waiting.isEmpty();
    Conditions.set(status, Conditions.READY, ready, ready ? "ClusterReady" : "Waiting",
        ready ? "serving at " + status.endpoint : String.join("; ", waiting), generation);
    Conditions.set(status, Conditions.PROGRESSING, !ready, ready ? "Done" : decision.waitingFor() != null ? "Draining" : "RollingOut",
        ready ? "nothing left to do" : String.join("; ", waiting), generation);
    return ready;
  }

  private void degraded(RemoteExecutionCluster cluster, String reason, String message) {
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

  private URI schedulerAdmin(ClusterNames names) {
    return URI.create(settings.schedulerAdminUrl.replace("{name}", names.cluster()).replace("{namespace}", names.namespace()));
  }

  private static String annotation(RemoteExecutionCluster cluster, String key) {
    Map<String, String> annotations = cluster.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(key);
  }

  static String hash(String... parts) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (String part : parts) {
        digest.update(part.getBytes(StandardCharsets.UTF_8));
        digest.update((byte) 0);
      }
      return HexFormat.of().formatHex(digest.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
