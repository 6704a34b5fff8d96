package build.rex.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.rex.server.ConfigAssertions;
import build.rex.config.ConfigLoader;
import org.junit.jupiter.api.Test;

class WorkerConfigTest {
  @Test
  void defaultsNeedInternalCertificates() {
    assertRejected("'cluster.tls.caFile': must be set (or set cluster.tls.mode: plaintext)", "");
  }

  @Test
  void defaultsWork() {
    WorkerConfig config = ConfigLoader.parse("cluster: {tls: {mode: plaintext}}", WorkerConfig.class);
    assertEquals(8981, config.grpc.port);
    assertEquals(10L << 30, config.storage.maxSize.bytes());
    assertTrue(config.storage.fsync);
    assertTrue(config.execution.enabled);
    assertTrue(config.execution.sandbox.enabled);
    assertEquals(java.util.List.of("127.0.0.1:8982"), config.cluster.schedulers.addresses);
    assertEquals("full", config.cluster.drainOnShutdown);
  }

  @Test
  void badValuesNameTheirKey() {
    assertRejected("'storage.lowWatermark'", "storage: {lowWatermark: 0.95}");
    assertRejected("'storage.highWatermark'", "storage: {highWatermark: 1.5}");
    assertRejected("'storage.maxSize'", "storage: {maxSize: 0}");
    assertRejected("'storage.path'", "storage: {path: ''}");
    assertRejected("'logLevel'", "logLevel: loud");
    assertRejected("'admin.port'", "admin: {port: -1}");
    assertRejected("'cluster.schedulers.addresses[0]': must be host:port", "cluster: {schedulers: {addresses: [nowhere]}}");
    assertRejected("'cluster.schedulers.dns': must be host:port", "cluster: {schedulers: {dns: 'rex-scheduler'}}");
    assertRejected("'cluster.drainOnShutdown'", "cluster: {drainOnShutdown: maybe}");
    assertRejected("'cluster.workerId'", "cluster: {workerId: 'a/b'}");
    assertRejected("'execution.executors[0].count'", "execution: {executors: [{count: 0}]}");
    assertRejected("'execution.executors'", "execution: {executors: []}");
    assertRejected("'execution.sandbox.pidsLimit'", "execution: {sandbox: {pidsLimit: 0}}");
  }

  private static void assertRejected(String key, String yaml) {
    ConfigAssertions.assertRejected(WorkerConfig.class, yaml, key);
  }
}
