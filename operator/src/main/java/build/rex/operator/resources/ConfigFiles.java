package build.rex.operator.resources;

import build.rex.operator.api.RemoteExecutionClusterSpec;
import build.rex.config.ConfigLoader;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The scheduler.yaml and worker.yaml a cluster's pods run with, rendered from its spec. Only keys
 * that differ from the servers' defaults are written; the files name the mounted Secrets' paths.
 */
public final class ConfigFiles {
  public static final String SCHEDULER_FILE = "scheduler.yaml";
  public static final String WORKER_FILE = "worker.yaml";
  /** The worker keeps this share of its volume for blobs; the rest is exec roots and the index. */
  private static final BigDecimal STORAGE_SHARE = new BigDecimal("0.8");

  private ConfigFiles() {}

  public static String scheduler(ClusterNames names, RemoteExecutionClusterSpec spec, String logLevel) {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("logLevel", logLevel);
    config.put("tls", Map.of("mode", "tls",
        "certificateFile", ClusterNames.SERVER_TLS_DIR + "/tls.crt",
        "privateKeyFile", ClusterNames.SERVER_TLS_DIR + "/tls.key"));
    config.put("auth", auth(spec.auth));
    config.put("cluster", Map.of("tls", internalTls(), "schedulers", Map.of("dns", names.schedulerDiscovery())));
    config.put("cas", Map.of("replicas", spec.cas.replicationFactor));
    if (spec.backup.enabled) {
      config.put("backup", backup(spec.backup));
    }
    return ConfigLoader.toYaml(config);
  }

  public static String worker(ClusterNames names, RemoteExecutionClusterSpec spec, String logLevel) {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("logLevel", logLevel);
    // workerId stays empty: the pod's host name, which a StatefulSet keeps across restarts.
    config.put("cluster", Map.of("tls", internalTls(), "schedulers", Map.of("dns", names.schedulerDiscovery())));
    BigDecimal volume = WorkerResources.amount(spec.workers.storage.size);
    config.put("storage", Map.of("path", ClusterNames.WORKER_STORAGE_DIR,
        "maxSize", volume.multiply(STORAGE_SHARE).toBigInteger().toString()));
    List<Map<String, Object>> pools = new ArrayList<>();
    for (RemoteExecutionClusterSpec.ExecutorPool pool : spec.workers.executors) {
      Map<String, String> properties = new LinkedHashMap<>(pool.properties);
      properties.put("cpu", pool.cpu);
      properties.put("memory", pool.memory);
      properties.put("pool", pool.name);
      pools.add(Map.of("count", pool.count, "properties", properties));
    }
    config.put("execution", Map.of("executors", pools));
    return ConfigLoader.toYaml(config);
  }

  private static Map<String, Object> internalTls() {
    return Map.of("mode", "mtls",
        "caFile", ClusterNames.INTERNAL_TLS_DIR + "/ca.crt",
        "certificateFile", ClusterNames.INTERNAL_TLS_DIR + "/tls.crt",
        "privateKeyFile", ClusterNames.INTERNAL_TLS_DIR + "/tls.key");
  }

  private static Map<String, Object> auth(RemoteExecutionClusterSpec.Auth spec) {
    Map<String, Object> auth = new LinkedHashMap<>();
    // Client certificates from the operator's CA are always accepted; a CA of the user's replaces it.
    auth.put("clientCertificates", Map.of("caFile", ClusterNames.CLIENT_CA_DIR + "/ca.crt"));
    if (spec.tokensSecretName != null) {
      auth.put("tokens", Map.of("file", ClusterNames.TOKENS_DIR + "/tokens.yaml"));
    }
    if (spec.jwt != null) {
      auth.put("jwt", Map.of("jwksFile", ClusterNames.JWKS_DIR + "/jwks.json", "issuer", spec.jwt.issuer,
          "audience", spec.jwt.audience, "identityClaim", spec.jwt.identityClaim));
    }
    if (spec.anonymous != null) {
      auth.put("anonymous", spec.anonymous);
    }
    if (spec.grants != null) {
      List<Map<String, Object>> grants = new ArrayList<>();
      for (RemoteExecutionClusterSpec.Grant grant : spec.grants) {
        grants.add(Map.of("identities", grant.identities, "instances", grant.instances, "rights", grant.rights));
      }
      auth.put("grants", grants);
    }
    return auth;
  }

  private static Map<String, Object> backup(RemoteExecutionClusterSpec.Backup spec) {
    Map<String, Object> backup = new LinkedHashMap<>();
    backup.put("enabled", true);
    backup.put("bucket", spec.bucket);
    backup.put("region", spec.region);
    if (spec.endpoint != null && !spec.endpoint.isEmpty()) {
      backup.put("endpoint", spec.endpoint);
    }
    if (spec.prefix != null) {
      backup.put("prefix", spec.prefix);
    }
    if (spec.credentialsSecretName != null) {
      backup.put("accessKeyIdFile", ClusterNames.BACKUP_CREDENTIALS_DIR + "/access-key-id");
      backup.put("secretAccessKeyFile", ClusterNames.BACKUP_CREDENTIALS_DIR + "/secret-access-key");
    }
    backup.put("spoolPath", "/tmp/rex-backup-spool");
    return backup;
  }
}
