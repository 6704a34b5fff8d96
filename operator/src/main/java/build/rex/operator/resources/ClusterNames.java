package build.rex.operator.resources;

import build.rex.operator.api.RemoteExecutionCluster;

/** The names of everything the operator makes for one cluster, and the paths inside its pods. */
public record ClusterNames(String cluster, String namespace) {
  public static final int CLIENT_PORT = 8980;
  public static final int SCHEDULER_INTERNAL_PORT = 8982;
  public static final int SCHEDULER_ADMIN_PORT = 9090;
  public static final int WORKER_PORT = 8981;
  public static final int WORKER_ADMIN_PORT = 9091;

  public static final String CONFIG_DIR = "/etc/rex/config";
  public static final String SERVER_TLS_DIR = "/etc/rex/tls";
  public static final String INTERNAL_TLS_DIR = "/etc/rex/internal-tls";
  public static final String CLIENT_CA_DIR = "/etc/rex/client-ca";
  public static final String TOKENS_DIR = "/etc/rex/tokens";
  public static final String JWKS_DIR = "/etc/rex/jwks";
  public static final String BACKUP_CREDENTIALS_DIR = "/etc/rex/backup";
  public static final String WORKER_STORAGE_DIR = "/var/lib/rex/worker";

  public static ClusterNames of(RemoteExecutionCluster cluster) {
    return new ClusterNames(cluster.getMetadata().getName(), cluster.getMetadata().getNamespace());
  }

  /** The client Service: the cluster's own name, so clients use what they applied. */
  public String clientService() {
    return cluster;
  }

  public String schedulerDeployment() {
    return cluster + "-scheduler";
  }

  /** Headless, with not-ready addresses: workers must find schedulers that wait for them to be ready. */
  public String schedulerPeersService() {
    return cluster + "-scheduler-peers";
  }

  public String workerStatefulSet() {
    return cluster + "-worker";
  }

  public String workerPeersService() {
    return cluster + "-workers";
  }

  public String workerPod(int ordinal) {
    return workerStatefulSet() + "-" + ordinal;
  }

  public String schedulerConfigMap() {
    return cluster + "-scheduler-config";
  }

  public String workerConfigMap() {
    return cluster + "-worker-config";
  }

  /** The operator's CAs (public and internal), keys included; mounted nowhere. */
  public String caSecret() {
    return cluster + "-ca";
  }

  /** The client port's certificate when the operator makes it. */
  public String serverTlsSecret() {
    return cluster + "-tls";
  }

  public String internalTlsSecret() {
    return cluster + "-internal-tls";
  }

  /** A client certificate from the operator's CA, for the cluster's first users and tools. */
  public String clientTlsSecret() {
    return cluster + "-client-tls";
  }

  /** The cert-manager Certificate for mode CertManager; its Secret has the same name. */
  public String certManagerCertificate() {
    return cluster + "-tls";
  }

  public String schedulerBudget() {
    return cluster + "-scheduler";
  }

  public String workerBudget() {
    return cluster + "-worker";
  }

  public String schedulerNetworkPolicy() {
    return cluster + "-scheduler";
  }

  public String workerNetworkPolicy() {
    return cluster + "-worker";
  }

  /** Every scheduler's internal port, through the headless Service's DNS name. */
  public String schedulerDiscovery() {
    return schedulerPeersService() + "." + namespace + ".svc:" + SCHEDULER_INTERNAL_PORT;
  }

  /** DNS names the client port's certificate must hold. */
  public java.util.List<String> clientDnsNames() {
    String svc = clientService();
    return java.util.List.of(svc, svc + "." + namespace, svc + "." + namespace + ".svc",
        svc + "." + namespace + ".svc.cluster.local");
  }
}
