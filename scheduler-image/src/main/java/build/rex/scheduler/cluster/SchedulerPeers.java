package build.rex.scheduler.cluster;

import build.rex.server.PeerChannels;
import build.rex.server.SchedulerDiscovery;
import io.grpc.Channel;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The cluster's schedulers as this one knows them. Operation names carry the address of the
 * scheduler that holds the operation ({@code execution.OperationName}), so any scheduler can
 * send a client's WaitExecution or GetOperation to the right one.
 */
public final class SchedulerPeers {
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

  /** Every scheduler of the cluster, as discovery finds them now. */
  public Set<String> all() {
    return discovery.resolve();
  }

  /**
   * The channel to {@code owner} when that is another scheduler that is still part of the
   * cluster; never an address that only the client named.
   */
  public Optional<Channel> channelTo(String owner) {
    if (owner.equals(self())) {
      return Optional.empty();
    }
    Set<String> schedulers = discovery.resolve();
    return schedulers.contains(owner) ? Optional.of(channels.get(owner)) : Optional.empty();
  }
}
