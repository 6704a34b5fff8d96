package build.rex.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.rex.server.ConfigAssertions;
import build.rex.server.ConfigLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchedulerConfigTest {
  @Test
  void defaultsWork() {
    SchedulerConfig config = ConfigLoader.parse("", SchedulerConfig.class);
    assertEquals(8980, config.grpc.port);
    assertEquals(List.of("127.0.0.1:8980"), config.cluster.schedulers.addresses);
    assertEquals(2, config.cas.replicas);
    assertEquals(4_000_000, config.cas.maxBatchTotalSize.bytes());
  }

  @Test
  void badValuesNameTheirKey() {
    assertRejected("'cluster.schedulers.addresses[1]': must be host:port",
        "cluster: {schedulers: {addresses: ['a:1', 'nonsense']}}");
    assertRejected("'cluster.schedulers.addresses'", "cluster: {schedulers: {addresses: []}}");
    assertRejected("'cas.replicas'", "cas: {replicas: 0}");
    assertRejected("'cas.maxBatchTotalSize'", "cas: {maxBatchTotalSize: 64Mi}");
    assertRejected("'actionCache.memoryEntries'", "actionCache: {memoryEntries: -1}");
    assertRejected("'actionCache.memoryEntrys': unknown key", "actionCache: {memoryEntrys: 5}");
  }

  private static void assertRejected(String key, String yaml) {
    ConfigAssertions.assertRejected(SchedulerConfig.class, yaml, key);
  }
}
