package build.rex.operator.reconcile;

import build.rex.operator.OperatorSettings;
import build.rex.operator.api.Durations;
import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.api.RemoteExecutionClusterSpec;
import build.rex.operator.resources.ClusterNames;
import build.rex.operator.resources.ClusterPlan;
import build.rex.operator.resources.ConfigFiles;
import build.rex.operator.scaling.Autoscaler;
import build.rex.operator.scaling.QueueLoad;
import build.rex.operator.scaling.SchedulerAdmin;
import build.rex.operator.scaling.WorkerScaling;
import build.rex.operator.tls.CertificateAuthorities;
import build.rex.operator.tls.RotatingAuthority;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;

/**
 * Decides, once per reconciliation and before any object is touched, everything the dependents
 * build from: where the CAs' rotation stands, the config files and their hashes, and how many
 * workers run (the spec's or the autoscaler's count, through the drain-first scale-down).
 */
final class ClusterPlanner {
  private final OperatorSettings settings;
  private final OperatorMetrics metrics;
  private final SchedulerAdmin admin;
  private final WorkerScaling scaling;
  private final Autoscaler autoscaler = new Autoscaler();
  private final Clock clock;

  ClusterPlanner(OperatorSettings settings, OperatorMetrics metrics, SchedulerAdmin admin, Clock clock) {
    this.settings = settings;
    this.metrics = metrics;
    this.admin = admin;
    this.scaling = new WorkerScaling(admin);
    this.clock = clock;
  }

  ClusterPlan plan(RemoteExecutionCluster cluster, Context<RemoteExecutionCluster> context) {
    Instant now = clock.instant();
    ClusterNames names = ClusterNames.of(cluster);
    RemoteExecutionClusterSpec spec = cluster.getSpec();
    Map<String, String> caData = context.getSecondaryResourcesAsStream(Secret.class)
        .filter(secret -> names.caSecret().equals(secret.getMetadata().getName()))
        .findFirst().map(Secret::getData).orElse(null);
    CertificateAuthorities authorities = CertificateAuthorities.advance(caData, names.cluster(), policy(spec), now);
    String schedulerConfig = ConfigFiles.scheduler(names, spec, settings.logLevel);
    String workerConfig = ConfigFiles.worker(names, spec, settings.logLevel);
    // What the pods read only at start. Certificates and CAs are not among them: servers re-read those.
    String schedulerHash = hash(schedulerConfig, ClusterPlan.serverTlsSecret(names, spec),
        String.valueOf(spec.auth.clientCaSecretName),
        String.valueOf(spec.auth.tokensSecretName), spec.auth.jwt == null ? "" : spec.auth.jwt.jwksSecretName,
        String.valueOf(spec.backup.credentialsSecretName));
    String workerHash = hash(workerConfig);
    Integer current = context.getSecondaryResource(StatefulSet.class).map(set -> set.getSpec().getReplicas())
        .orElseGet(() -> WorkerPods.runningWithoutStatefulSet(names, context));
    Autoscaler.Decision autoscale = autoscale(cluster, names, current, now);
    int wanted = autoscale == null ? spec.workers.replicas : autoscale.replicas();
    WorkerScaling.Decision decision = scaling.decide(names, current, wanted, forced(cluster), schedulerAdmin(names),
        ordinal -> WorkerPods.exists(context, names.workerPod(ordinal)));
    return new ClusterPlan(cluster, settings, metrics, now, authorities, schedulerConfig, workerConfig, schedulerHash,
        workerHash, decision, autoscale, schedulerAdmin(names));
  }

  /** The autoscaler's count, or null when the spec fixes it. */
  private Autoscaler.Decision autoscale(RemoteExecutionCluster cluster, ClusterNames names, Integer current,
      Instant now) {
    RemoteExecutionClusterSpec.Workers workers = cluster.getSpec().workers;
    String key = names.namespace() + "/" + names.cluster();
    if (!workers.autoscale.enabled) {
      autoscaler.forget(key);
      return null;
    }
    int running = current == null ? workers.autoscale.minReplicas : current;
    QueueLoad load;
    try {
      load = admin.load(schedulerAdmin(names));
    } catch (IOException e) {
      int held = Math.min(Math.max(running, workers.autoscale.minReplicas), workers.autoscale.maxReplicas);
      return new Autoscaler.Decision(held, held, "the schedulers' queue cannot be read (" + e.getMessage()
          + "): holding " + held + " workers");
    }
    return autoscaler.decide(key, workers, load, running, now);
  }

  static boolean forced(RemoteExecutionCluster cluster) {
    Map<String, String> annotations = cluster.getMetadata().getAnnotations();
    return annotations != null && "true".equals(annotations.get(RemoteExecutionCluster.FORCE_SCALE_DOWN));
  }

  private URI schedulerAdmin(ClusterNames names) {
    return URI.create(settings.schedulerAdminUrl.replace("{name}", names.cluster()).replace("{namespace}", names.namespace()));
  }

  private static RotatingAuthority.Policy policy(RemoteExecutionClusterSpec spec) {
    var certificates = spec.certificates;
    return new RotatingAuthority.Policy(Durations.parse(certificates.caValidity),
        Durations.parse(certificates.caRenewBefore), Durations.parse(certificates.rotationOverlap));
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
