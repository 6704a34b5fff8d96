package build.rex.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SchedulerDiscoveryTest {
  @Test
  void aStaticListIsTakenAsItIs() {
    SchedulerDiscovery discovery = new SchedulerDiscovery();
    discovery.addresses = List.of("10.0.0.1:8980", "10.0.0.2:8980");
    assertEquals(Set.of("10.0.0.1:8980", "10.0.0.2:8980"), discovery.resolve());
  }

  @Test
  void aDnsNameResolvesToEveryAddressWithThePort() {
    SchedulerDiscovery discovery = new SchedulerDiscovery();
    discovery.dns = "localhost:8980";
    Set<String> found = discovery.resolve();
    assertTrue(found.contains("127.0.0.1:8980") || found.contains("[0:0:0:0:0:0:0:1]:8980"), found.toString());
    found.forEach(address -> assertTrue(address.endsWith(":8980"), address));
  }

  @Test
  void anUnknownNameGivesNoSchedulersYet() {
    SchedulerDiscovery discovery = new SchedulerDiscovery();
    discovery.dns = "no-such-scheduler.invalid:8980";
    assertEquals(Set.of(), discovery.resolve());
  }
}
