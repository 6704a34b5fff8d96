package build.rex.operator;

import build.rex.operator.reconcile.ClusterEvents;
import build.rex.operator.reconcile.ClusterReconciler;
import build.rex.operator.reconcile.OperatorMetrics;
import build.rex.operator.scaling.SchedulerAdmin;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.core.instrument.MeterRegistry;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The operator wired together: JOSDK with the cluster reconciler, on a given API server. */
public final class RexOperator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RexOperator.class);
  private final Operator operator;

  private RexOperator(Operator operator) {
    this.operator = operator;
  }

  /**
   * @param fatal called when this operator can no longer act: a watch stopped for good, or the
   *     Lease was lost to another replica (JOSDK's defaults would exit the JVM). The process
   *     exits so Kubernetes restarts it; tests only record it.
   */
  public static RexOperator start(KubernetesClient client, OperatorSettings settings, MeterRegistry registry,
      SchedulerAdmin admin, java.util.function.Consumer<Throwable> fatal) {
    return start(client, settings, registry, admin, fatal, java.time.Clock.systemUTC());
  }

  /** @param clock the time certificates, CA rotations and the autoscaler's delays are measured in */
  public static RexOperator start(KubernetesClient client, OperatorSettings settings, MeterRegistry registry,
      SchedulerAdmin admin, java.util.function.Consumer<Throwable> fatal, java.time.Clock clock) {
    Operator operator = new Operator(overrides -> overrides
        .withKubernetesClient(client)
        .withInformerStoppedHandler((informer, cause) -> fatal.accept(cause))
        .withLeaderElectionConfiguration(leaderElection(settings, fatal))
        .withCloseClientOnStop(false)
        // Plain updates and merge patches: they work on every API server (and fabric8's mock
        // server); the operator owns these objects outright, so there is no field ownership to share.
        .withSSABasedCreateUpdateMatchForDependentResources(false)
        .withUseSSAToPatchPrimaryResource(false));
    ClusterReconciler reconciler = new ClusterReconciler(settings, new OperatorMetrics(registry), admin,
        new ClusterEvents(client), clock);
    operator.register(reconciler, configuration -> {
      if (settings.namespaces.isEmpty()) {
        configuration.watchingAllNamespaces();
      } else {
        configuration.settingNamespaces(new HashSet<>(settings.namespaces));
      }
    });
    operator.start();
    return new RexOperator(operator);
  }

  /** The Lease this replica competes for, or null when it acts alone. */
  private static LeaderElectionConfiguration leaderElection(OperatorSettings settings,
      java.util.function.Consumer<Throwable> fatal) {
    OperatorSettings.LeaderElection election = settings.leaderElection;
    if (!election.appliesIn(settings.operatorNamespace)) {
      return null;
    }
    Duration lease = Duration.ofSeconds(election.leaseSeconds);
    String identity = Optional.ofNullable(System.getenv("HOSTNAME")).orElse("rex-operator") + "-" + UUID.randomUUID();
    return LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(election.leaseName)
        .withLeaseNamespace(settings.operatorNamespace)
        .withIdentity(identity)
        .withLeaseDuration(lease)
        .withRenewDeadline(lease.multipliedBy(2).dividedBy(3))
        .withRetryPeriod(lease.dividedBy(5))
        .withExitOnStopLeading(false)
        .withLeaderCallbacks(new LeaderCallbacks(
            () -> LOG.info("leading: this operator ({}) acts on the clusters", identity),
            () -> fatal.accept(new IllegalStateException("lost the Lease " + election.leaseName + " to another operator")),
            leader -> LOG.info("the leading operator is {}", leader)))
        .build();
  }

  /** True once every informer has synced and is watching (a standby replica too). */
  public boolean healthy() {
    return operator.getRuntimeInfo().isStarted() && operator.getRuntimeInfo().allEventSourcesAreHealthy();
  }

  /** The event sources that are not healthy, by controller, for logs and probes. */
  public String unhealthy() {
    return operator.getRuntimeInfo().unhealthyEventSources().toString();
  }

  @Override
  public void close() {
    operator.stop();
  }
}
