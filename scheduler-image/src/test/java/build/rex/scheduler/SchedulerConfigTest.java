package build.rex.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.rex.server.ConfigAssertions;
import build.rex.config.ConfigLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchedulerConfigTest {
  /** With no config at all, the scheduler refuses to open an unencrypted port that anyone may use. */
  @Test
  void defaultsRefuseAnOpenClientPort() {
    assertRejected("'cluster.tls.caFile': must be set (or set cluster.tls.mode: plaintext)", "");
    assertRejected("'tls.certificateFile': must be set (or set tls.mode: plaintext)", "cluster: {tls: {mode: plaintext}}");
    assertRejected("'auth': no client could ever be let in",
        "cluster: {tls: {mode: plaintext}}\ntls: {mode: plaintext}");
    assertRejected("'auth.anonymous'", "cluster: {tls: {mode: plaintext}}\ntls: {mode: plaintext}\nauth: {anonymous: [fly]}");
    assertRejected("'auth.jwt.issuer'",
        "cluster: {tls: {mode: plaintext}}\ntls: {mode: plaintext}\nauth: {jwt: {jwksFile: /etc/jwks.json}}");
  }

  @Test
  void defaultsWorkOnceAccessIsChosen() {
    SchedulerConfig config = ConfigLoader.parse(
        "cluster: {tls: {mode: plaintext}}\ntls: {mode: plaintext}\nauth: {anonymous: [read]}", SchedulerConfig.class);
    assertEquals(8980, config.grpc.port);
    assertEquals(8982, config.cluster.grpc.port);
    assertEquals(List.of("127.0.0.1:8982"), config.cluster.schedulers.addresses);
    assertEquals(List.of("*"), config.auth.grants.get(0).identities);
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
