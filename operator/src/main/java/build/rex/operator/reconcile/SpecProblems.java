package build.rex.operator.reconcile;

import build.rex.operator.api.Durations;
import build.rex.operator.api.RemoteExecutionClusterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What is wrong with a spec, in words a user can act on. The CRD schema refuses most of this
 * already; this catches the rest (rules across fields) and anything an API server without the
 * schema let through. A spec with problems changes nothing in the running cluster.
 */
public final class SpecProblems {
  private static final Set<String> TLS_MODES = Set.of(RemoteExecutionClusterSpec.TLS_GENERATED,
      RemoteExecutionClusterSpec.TLS_SECRET, RemoteExecutionClusterSpec.TLS_CERT_MANAGER);
  private static final Set<String> RIGHTS = Set.of("read", "write", "execute");

  private SpecProblems() {}

  public static List<String> of(RemoteExecutionClusterSpec spec) {
    List<String> problems = new ArrayList<>();
    if (spec == null) {
      return List.of("spec is missing");
    }
    check(problems, spec.schedulers != null && spec.workers != null && spec.cas != null && spec.tls != null
        && spec.auth != null && spec.service != null && spec.backup != null && spec.workers.storage != null
        && spec.network != null && spec.workers.autoscale != null,
        "spec sections must be objects, not null");
    if (!problems.isEmpty()) {
      return problems;
    }
    check(problems, spec.schedulers.replicas >= 1, "schedulers.replicas must be at least 1, got " + spec.schedulers.replicas);
    quantity(problems, "schedulers.cpu", spec.schedulers.cpu);
    quantity(problems, "schedulers.memory", spec.schedulers.memory);
    check(problems, spec.workers.replicas >= 1, "workers.replicas must be at least 1, got " + spec.workers.replicas);
    quantity(problems, "workers.processMemory", spec.workers.processMemory);
    quantity(problems, "workers.storage.size", spec.workers.storage.size);
    check(problems, Set.of("Delete", "Retain").contains(spec.workers.storage.whenDeleted),
        "workers.storage.whenDeleted must be Delete or Retain, got '" + spec.workers.storage.whenDeleted + "'");
    if (spec.workers.executors == null || spec.workers.executors.isEmpty()) {
      problems.add("workers.executors must list at least one executor pool: a worker without executors runs nothing");
    } else {
      for (int i = 0; i < spec.workers.executors.size(); i++) {
        RemoteExecutionClusterSpec.ExecutorPool pool = spec.workers.executors.get(i);
        String key = "workers.executors[" + i + "]";
        check(problems, pool.count >= 1, key + ".count must be at least 1, got " + pool.count);
        check(problems, pool.name != null && pool.name.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?"),
            key + ".name must be a DNS label (a-z, 0-9, -), got '" + pool.name + "'");
        quantity(problems, key + ".cpu", pool.cpu);
        quantity(problems, key + ".memory", pool.memory);
      }
    }
    int factor = spec.cas.replicationFactor;
    check(problems, factor >= 1 && factor <= 5, "cas.replicationFactor must be from 1 to 5, got " + factor);
    check(problems, spec.workers.replicas >= factor, "workers.replicas (" + spec.workers.replicas
        + ") must be at least cas.replicationFactor (" + factor + "): every blob is kept on " + factor
        + " workers; add workers or lower the factor");
    autoscale(problems, spec.workers.autoscale, factor);
    check(problems, Set.of(RemoteExecutionClusterSpec.SANDBOX_FULL, RemoteExecutionClusterSpec.SANDBOX_BASELINE)
        .contains(spec.workers.sandbox), "workers.sandbox must be Full or Baseline, got '" + spec.workers.sandbox + "'");
    certificates(problems, spec.certificates);
    tls(problems, spec.tls);
    auth(problems, spec.auth);
    check(problems, Set.of("LoadBalancer", "NodePort", "ClusterIP").contains(spec.service.type),
        "service.type must be LoadBalancer, NodePort or ClusterIP, got '" + spec.service.type + "'");
    check(problems, spec.service.port >= 1 && spec.service.port <= 65535, "service.port must be from 1 to 65535");
    if (spec.backup.enabled) {
      check(problems, spec.backup.bucket != null && !spec.backup.bucket.isBlank(), "backup.bucket must be set when backup is enabled");
      check(problems, spec.backup.endpoint == null || spec.backup.endpoint.isEmpty() || spec.backup.endpoint.matches("https?://.+"),
          "backup.endpoint must be an http:// or https:// URL, got '" + spec.backup.endpoint + "'");
    }
    return problems;
  }

  private static void autoscale(List<String> problems, RemoteExecutionClusterSpec.Autoscale autoscale, int factor) {
    if (autoscale == null || !autoscale.enabled) {
      return;
    }
    check(problems, autoscale.minReplicas >= factor, "workers.autoscale.minReplicas (" + autoscale.minReplicas
        + ") must be at least cas.replicationFactor (" + factor + ")");
    check(problems, autoscale.maxReplicas >= autoscale.minReplicas, "workers.autoscale.maxReplicas ("
        + autoscale.maxReplicas + ") must be at least minReplicas (" + autoscale.minReplicas + ")");
    check(problems, autoscale.targetQueuedPerExecutor >= 0, "workers.autoscale.targetQueuedPerExecutor must not be negative");
    duration(problems, "workers.autoscale.scaleUpDelay", autoscale.scaleUpDelay);
    duration(problems, "workers.autoscale.scaleDownDelay", autoscale.scaleDownDelay);
  }

  private static void certificates(List<String> problems, RemoteExecutionClusterSpec.Certificates certificates) {
    if (certificates == null) {
      problems.add("certificates must be an object, not null");
      return;
    }
    boolean valid = duration(problems, "certificates.caValidity", certificates.caValidity)
        & duration(problems, "certificates.caRenewBefore", certificates.caRenewBefore)
        & duration(problems, "certificates.rotationOverlap", certificates.rotationOverlap);
    if (valid) {
      var validity = Durations.parse(certificates.caValidity);
      var renewBefore = Durations.parse(certificates.caRenewBefore);
      var overlap = Durations.parse(certificates.rotationOverlap);
      check(problems, renewBefore.compareTo(validity) < 0, "certificates.caRenewBefore (" + certificates.caRenewBefore
          + ") must be shorter than caValidity (" + certificates.caValidity + ")");
      check(problems, overlap.multipliedBy(2).compareTo(renewBefore) < 0, "certificates.rotationOverlap ("
          + certificates.rotationOverlap + ") must be less than half of caRenewBefore (" + certificates.caRenewBefore
          + "): a rotation takes two overlaps and must end before the old CA does");
    }
  }

  private static boolean duration(List<String> problems, String key, String value) {
    boolean ok = value != null && value.matches(RemoteExecutionClusterSpec.DURATION);
    check(problems, ok, key + " must be a duration such as 30s, 10m, 12h or 365d; got '" + value + "'");
    return ok;
  }

  private static void tls(List<String> problems, RemoteExecutionClusterSpec.Tls tls) {
    if (!TLS_MODES.contains(tls.mode)) {
      problems.add("tls.mode must be Generated, Secret or CertManager, got '" + tls.mode + "'");
    } else if (RemoteExecutionClusterSpec.TLS_SECRET.equals(tls.mode)) {
      check(problems, tls.secretName != null && !tls.secretName.isBlank(),
          "tls.secretName must name a kubernetes.io/tls Secret when tls.mode is Secret");
    } else if (RemoteExecutionClusterSpec.TLS_CERT_MANAGER.equals(tls.mode)) {
      check(problems, tls.issuerRef != null && tls.issuerRef.name != null && !tls.issuerRef.name.isBlank(),
          "tls.issuerRef.name must name a cert-manager Issuer when tls.mode is CertManager");
      check(problems, tls.issuerRef == null || Set.of("Issuer", "ClusterIssuer").contains(tls.issuerRef.kind),
          "tls.issuerRef.kind must be Issuer or ClusterIssuer");
    }
  }

  private static void auth(List<String> problems, RemoteExecutionClusterSpec.Auth auth) {
    if (auth.anonymous != null) {
      for (String right : auth.anonymous) {
        check(problems, RIGHTS.contains(right), "auth.anonymous: unknown right '" + right + "'; use read, write, execute");
      }
    }
    if (auth.jwt != null) {
      check(problems, auth.jwt.jwksSecretName != null && auth.jwt.issuer != null && auth.jwt.audience != null,
          "auth.jwt needs jwksSecretName, issuer and audience");
    }
    if (auth.grants != null) {
      for (int i = 0; i < auth.grants.size(); i++) {
        var grant = auth.grants.get(i);
        check(problems, grant.rights != null && !grant.rights.isEmpty() && RIGHTS.containsAll(grant.rights),
            "auth.grants[" + i + "].rights must list read, write or execute, got " + grant.rights);
      }
    }
  }

  private static void quantity(List<String> problems, String key, String value) {
    check(problems, value != null && value.matches(RemoteExecutionClusterSpec.QUANTITY),
        key + " must be a Kubernetes quantity such as 500m, 2, 4Gi; got '" + value + "'");
  }

  private static void check(List<String> problems, boolean ok, String problem) {
    if (!ok) {
      problems.add(problem);
    }
  }
}
