package build.rex.server;

import build.rex.config.Validated;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * How a process finds the cluster's schedulers: a fixed list of host:port addresses (for local
 * use), or a DNS name that resolves to all of them, such as a Kubernetes headless Service
 * (resolved again on every call, so schedulers that come and go are seen within seconds).
 */
public final class SchedulerDiscovery {
  /** Fixed host:port addresses. Used when {@code dns} is empty. */
  public List<String> addresses = List.of("127.0.0.1:8982");
  /** A name:port whose A/AAAA records are every scheduler; e.g. rex-scheduler-peers.ns.svc:8982. */
  public String dns = "";
  /** How often the DNS name is resolved again. */
  public int refreshSeconds = 5;

  public void validate(String key) {
    if (dns == null || dns.isEmpty()) {
      Validated.require(addresses != null && !addresses.isEmpty(), key + ".addresses",
          "must list at least one scheduler (or set " + key + ".dns)");
      for (int i = 0; i < addresses.size(); i++) {
        Validated.requireHostPort(addresses.get(i), key + ".addresses[" + i + "]");
      }
    } else {
      Validated.requireHostPort(dns, key + ".dns");
    }
    Validated.require(refreshSeconds > 0, key + ".refreshSeconds", "must be positive");
  }

  /** The schedulers' host:port addresses now; an unresolvable DNS name gives none. */
  public Set<String> resolve() {
    if (dns == null || dns.isEmpty()) {
      return new LinkedHashSet<>(addresses);
    }
    int colon = dns.lastIndexOf(':');
    String host = dns.substring(0, colon);
    String port = dns.substring(colon + 1);
    Set<String> found = new LinkedHashSet<>();
    try {
      for (InetAddress address : InetAddress.getAllByName(host)) {
        String text = address.getHostAddress();
        found.add((text.contains(":") ? "[" + text + "]" : text) + ":" + port);
      }
    } catch (UnknownHostException e) {
      // none yet: the Service has no ready endpoints, or DNS is not up
    }
    return found;
  }
}
