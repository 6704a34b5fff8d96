package build.rex.scheduler.cluster;

import build.rex.server.PeerChannels;
import build.rex.server.SchedulerDiscovery;
import io.grpc.Channel;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The cluster's schedulers as this one knows them. Operation names carry the address of the
 * scheduler that holds the operation ({@code operations/<host:port>/<id>}), so any scheduler can
 * send a client's WaitExecution or GetOperation to the right one; a name whose scheduler is no
 * longer in the cluster is simply unknown (NOT_FOUND), and the client executes again.
 */
public final class SchedulerPeers {
  private static final String PREFIX = "operations/";
  private final SchedulerDiscovery discovery;
  private final Supplier<String> self;
  private final PeerChannels channels;

  /** @param self how the others reach this scheduler; known once its port is open */
  public SchedulerPeers(SchedulerDiscovery discovery, Supplier<String> self, PeerChannels channels) {
    this.discovery = discovery;
    this.self = self;
    this.channels = channels;
  }

  public String self() {
    return self.get();
  }

  /** How this scheduler's operation names begin. */
  public String operationPrefix() {
    return PREFIX + self() + "/";
  }

  /**
   * The channel to the scheduler that holds {@code operation}, when that is another scheduler
   * that is still part of the cluster; never an address that only the client named.
   */
  public Optional<Channel> ownerOf(String operation) {
    if (!operation.startsWith(PREFIX)) {
      return Optional.empty();
    }
    int end = operation.indexOf('/', PREFIX.length());
    if (end < 0) {
      return Optional.empty();
    }
    String owner = operation.substring(PREFIX.length(), end);
    if (owner.equals(self())) {
      return Optional.empty();
    }
    Set<String> schedulers = discovery.resolve();
    return schedulers.contains(owner) ? Optional.of(channels.get(owner)) : Optional.empty();
  }
}
