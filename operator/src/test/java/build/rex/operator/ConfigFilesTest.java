package build.rex.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.resources.ClusterNames;
import build.rex.operator.resources.ConfigFiles;
import build.rex.scheduler.SchedulerConfig;
import build.rex.config.ConfigLoader;
import build.rex.pki.CertificateAuthority;
import build.rex.worker.WorkerConfig;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configs the operator renders load and validate with the servers' own config classes. */
class ConfigFilesTest {
  @TempDir
  Path root;

  private RemoteExecutionCluster example(String name) throws Exception {
    RemoteExecutionCluster cluster = Serialization.unmarshal(
        Files.readString(Path.of("..", "crds", "examples", name)), RemoteExecutionCluster.class);
    cluster.getMetadata().setNamespace("builds");
    return cluster;
  }

  /** Lays out the mounted Secrets' files under a temporary root, as the pods see them under /etc/rex. */
  private String mounted(String yaml) throws Exception {
    CertificateAuthority ca = CertificateAuthority.create("test", Duration.ofDays(1));
    for (String dir : List.of(ClusterNames.SERVER_TLS_DIR, ClusterNames.INTERNAL_TLS_DIR, ClusterNames.CLIENT_CA_DIR,
        ClusterNames.TOKENS_DIR, ClusterNames.JWKS_DIR, ClusterNames.BACKUP_CREDENTIALS_DIR)) {
      Path folder = Files.createDirectories(root.resolve(dir.substring(1)));
      ca.issue("x", List.of(), Duration.ofDays(1)).write(folder.resolve("tls.crt"), folder.resolve("tls.key"));
      Files.writeString(folder.resolve("ca.crt"), ca.certificatePem());
      Files.writeString(folder.resolve("tokens.yaml"), "[]\n");
      Files.writeString(folder.resolve("jwks.json"), "{\"keys\":[]}\n");
      Files.writeString(folder.resolve("access-key-id"), "id\n");
      Files.writeString(folder.resolve("secret-access-key"), "secret\n");
    }
    return yaml.replace("/etc/rex/", root + "/etc/rex/");
  }

  @Test
  void theMinimalClustersConfigsLoad() throws Exception {
    RemoteExecutionCluster cluster = example("minimal.yaml");
    ClusterNames names = ClusterNames.of(cluster);
    SchedulerConfig scheduler = ConfigLoader.parse(mounted(ConfigFiles.scheduler(names, cluster.getSpec(), "info")),
        SchedulerConfig.class);
    assertEquals("build-scheduler-peers.builds.svc:8982", scheduler.cluster.schedulers.dns);
    assertEquals(2, scheduler.cas.replicas);
    assertTrue(scheduler.auth.clientCertificates.caFile.endsWith("/etc/rex/client-ca/ca.crt"));
    assertTrue(scheduler.cluster.tls.enabled());
    WorkerConfig worker = ConfigLoader.parse(mounted(ConfigFiles.worker(names, cluster.getSpec(), "info")), WorkerConfig.class);
    assertEquals("build-scheduler-peers.builds.svc:8982", worker.cluster.schedulers.dns);
    assertEquals(2, worker.execution.executors.get(0).count);
    assertEquals("default", worker.execution.executors.get(0).properties.get("pool"));
    // 80% of the 50Gi volume is for blobs.
    assertEquals(50L * 1024 * 1024 * 1024 * 8 / 10, worker.storage.maxSize.bytes());
  }

  @Test
  void theFullClustersConfigsLoad() throws Exception {
    RemoteExecutionCluster cluster = example("full.yaml");
    ClusterNames names = ClusterNames.of(cluster);
    SchedulerConfig scheduler = ConfigLoader.parse(mounted(ConfigFiles.scheduler(names, cluster.getSpec(), "debug")),
        SchedulerConfig.class);
    assertEquals("debug", scheduler.logLevel);
    assertEquals(3, scheduler.cas.replicas);
    assertEquals("https://token.actions.githubusercontent.com", scheduler.auth.jwt.issuer);
    assertEquals(List.of("read"), scheduler.auth.anonymous);
    assertEquals(List.of("release/*"), scheduler.auth.grants.get(1).instances);
    assertTrue(scheduler.backup.enabled);
    assertEquals("rex-cache-backup", scheduler.backup.bucket);
    WorkerConfig worker = ConfigLoader.parse(mounted(ConfigFiles.worker(names, cluster.getSpec(), "debug")), WorkerConfig.class);
    assertEquals(2, worker.execution.executors.size());
    assertEquals("16Gi", worker.execution.executors.get(1).properties.get("memory"));
    assertEquals("large", worker.execution.executors.get(1).properties.get("size"));
  }
}
