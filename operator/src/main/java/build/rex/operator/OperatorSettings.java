package build.rex.operator;

import build.rex.config.Endpoint;
import build.rex.config.Validated;
import java.util.List;

/** The operator's config file (operator.yaml). Every key has a default. */
public final class OperatorSettings implements Validated {
  /** Namespaces whose clusters this operator runs; empty: all namespaces. */
  public List<String> namespaces = List.of();
  /** /metrics, /healthz and /readyz. */
  public Endpoint admin = new Endpoint("0.0.0.0", 8080);
  /** One of error, warn, info, debug, trace; also the clusters' servers' level. */
  public String logLevel = "info";
  /** Images used when a cluster names none. */
  public String schedulerImage = "ghcr.io/rex-build/rex-scheduler:0.1.0";
  public String workerImage = "ghcr.io/rex-build/rex-worker:0.1.0";
  /**
   * Where the operator reaches a cluster's scheduler admin API (to drain workers before a
   * scale-down); {name} and {namespace} are the cluster's. The default works inside the cluster.
   */
  public String schedulerAdminUrl = "http://{name}-scheduler-peers.{namespace}.svc:9090";
  /**
   * The namespace the operator runs in (the chart sets it): the clusters' NetworkPolicies let it
   * reach the admin ports it drains workers through. Empty outside a cluster.
   */
  public String operatorNamespace = "";
  /** Several operator replicas (for availability) take turns: only the holder of a Lease acts. */
  public LeaderElection leaderElection = new LeaderElection();
  /** How often what is not watched is looked at again: a waiting drain, an autoscaled queue, a Secret the schedulers wait for. */
  public int drainPollSeconds = 5;

  @Override
  public void validate() {
    Validated.require(namespaces != null, "namespaces", "must be a list (empty: all namespaces)");
    Validated.require(admin != null, "admin", "must be set");
    admin.validate("admin");
    Validated.require(List.of("error", "warn", "info", "debug", "trace").contains(logLevel), "logLevel",
        "must be one of error, warn, info, debug, trace; got " + logLevel);
    Validated.require(schedulerImage != null && !schedulerImage.isBlank(), "schedulerImage", "must be set");
    Validated.require(workerImage != null && !workerImage.isBlank(), "workerImage", "must be set");
    Validated.require(schedulerAdminUrl != null && schedulerAdminUrl.matches("https?://.+"), "schedulerAdminUrl",
        "must be an http:// URL, got '" + schedulerAdminUrl + "'");
    Validated.require(drainPollSeconds > 0, "drainPollSeconds", "must be positive");
    Validated.require(operatorNamespace != null, "operatorNamespace", "must be a namespace name or empty");
    Validated.require(leaderElection != null, "leaderElection", "must be set");
    Validated.require(leaderElection.leaseName != null && leaderElection.leaseName.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?"),
        "leaderElection.leaseName", "must be a Kubernetes object name, got '" + leaderElection.leaseName + "'");
    Validated.require(leaderElection.leaseSeconds >= 3, "leaderElection.leaseSeconds", "must be at least 3");
  }

  /**
   * Leader election on the Lease {@code leaseName} in {@code operatorNamespace}; without an
   * operatorNamespace (outside a cluster) there is none, and this operator acts alone.
   */
  public static final class LeaderElection {
    public boolean enabled = true;
    public String leaseName = "rex-operator";
    /** How long a silent leader keeps the Lease: how soon a standby takes over after a crash. */
    public int leaseSeconds = 15;

    public boolean appliesIn(String namespace) {
      return enabled && namespace != null && !namespace.isBlank();
    }
  }
}
