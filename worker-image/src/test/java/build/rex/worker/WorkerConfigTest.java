package build.rex.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.rex.server.ConfigAssertions;
import build.rex.server.ConfigLoader;
import org.junit.jupiter.api.Test;

class WorkerConfigTest {
  @Test
  void defaultsWork() {
    WorkerConfig config = ConfigLoader.parse("", WorkerConfig.class);
    assertEquals(8981, config.grpc.port);
    assertEquals(10L << 30, config.storage.maxSize.bytes());
    assertTrue(config.storage.fsync);
    assertTrue(config.execution.enabled);
    assertTrue(config.execution.sandbox.enabled);
    assertEquals("127.0.0.1:8980", config.execution.scheduler);
  }

  @Test
  void badValuesNameTheirKey() {
    assertRejected("'storage.lowWatermark'", "storage: {lowWatermark: 0.95}");
    assertRejected("'storage.highWatermark'", "storage: {highWatermark: 1.5}");
    assertRejected("'storage.maxSize'", "storage: {maxSize: 0}");
    assertRejected("'storage.path'", "storage: {path: ''}");
    assertRejected("'logLevel'", "logLevel: loud");
    assertRejected("'admin.port'", "admin: {port: -1}");
    assertRejected("'execution.scheduler': must be host:port", "execution: {scheduler: nowhere}");
    assertRejected("'execution.executors[0].count'", "execution: {executors: [{count: 0}]}");
    assertRejected("'execution.executors'", "execution: {executors: []}");
    assertRejected("'execution.sandbox.pidsLimit'", "execution: {sandbox: {pidsLimit: 0}}");
  }

  private static void assertRejected(String key, String yaml) {
    ConfigAssertions.assertRejected(WorkerConfig.class, yaml, key);
  }
}
