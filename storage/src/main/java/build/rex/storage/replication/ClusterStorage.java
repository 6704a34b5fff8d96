package build.rex.storage.replication;

import build.rex.storage.BlobStore;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.remote.GrpcActionCache;
import build.rex.storage.remote.GrpcBlobStore;
import io.grpc.Channel;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * The cluster's CAS and Action Cache as one process sees them: replicated over the storage
 * members it was last told about. A worker passes its own disk stores for itself, so its own
 * copies never go over the network.
 */
public final class ClusterStorage implements AutoCloseable {
  /** A storage member as the worker protocol announces it. */
  public record Member(String id, String address, boolean draining) {}

  private final Function<String, Channel> channels;
  private final java.util.function.Consumer<java.util.Set<String>> keepChannels;
  private final String selfId;
  private final BlobStore selfCas;
  private final ActionCache selfActionCache;
  private final ExecutorService pool = Executors.newCachedThreadPool(build.rex.storage.DaemonThreads.named("cluster-storage"));
  /** Calls to members run with the caller's trace context, so they join the caller's trace. */
  private final java.util.concurrent.Executor calls = io.opentelemetry.context.Context.taskWrapping(pool);
  private final Repairer repairer;
  private final BlobStore cas;
  private final ReplicatingActionCache actionCache;
  private volatile Placement<BlobStore> casPlacement = Placement.empty();
  private volatile Placement<ActionCache> actionCachePlacement = Placement.empty();
  private volatile Collection<Member> members = java.util.List.of();
  private volatile int replicas = 1;

  /**
   * @param channels the channel to a member's address
   * @param keepChannels told the addresses still in use after each change, to close the others
   * @param selfId this process's member id, or null when it holds no storage (a scheduler)
   */
  public ClusterStorage(Function<String, Channel> channels, java.util.function.Consumer<java.util.Set<String>> keepChannels,
      String selfId, BlobStore selfCas, ActionCache selfActionCache, RateLimiter repairRate) {
    this.channels = channels;
    this.keepChannels = keepChannels;
    this.selfId = selfId;
    this.selfCas = selfCas;
    this.selfActionCache = selfActionCache;
    this.repairer = new Repairer(new BlobCopier(repairRate), 4, 10_000);
    this.cas = replicated(() -> casPlacement, calls, repairer);
    this.actionCache = new ReplicatingActionCache(() -> actionCachePlacement, calls);
  }

  /**
   * The cluster's CAS, as layers over each membership ({@link PlacedBlobStore}): each blob's
   * owners (R members by rendezvous placement) are its mirrors, the r-th mirror a sharding of
   * blobs by their r-th owner, so a batch costs one call per member and rank; reads the owners
   * cannot serve look for a stray copy on the other members.
   */
  static BlobStore replicated(java.util.function.Supplier<Placement<BlobStore>> placement,
      java.util.concurrent.Executor calls, Repairer repairer) {
    FanOut fanOut = new FanOut(calls);
    return new PlacedBlobStore(placement, members -> {
      List<BlobStore> ranks = new ArrayList<>();
      for (int rank = 0; rank < members.replicas(); rank++) {
        int r = rank;
        ranks.add(new ShardingBlobStore(digest -> members.owners(digest.getHash()).get(r), fanOut));
      }
      List<BlobStore> mirrors = List.copyOf(ranks);
      return new StrayCopyLookup(new MirroredBlobStore(() -> mirrors, fanOut, repairer),
          digest -> members.others(digest.getHash()), fanOut, repairer);
    });
  }

  /** Takes a new membership; calls already running finish on the old one. */
  public synchronized void update(Collection<Member> newMembers, int replicas) {
    Map<String, BlobStore> activeCas = new LinkedHashMap<>();
    Map<String, BlobStore> drainingCas = new LinkedHashMap<>();
    Map<String, ActionCache> activeAc = new LinkedHashMap<>();
    Map<String, ActionCache> drainingAc = new LinkedHashMap<>();
    for (Member member : newMembers) {
      boolean self = member.id().equals(selfId);
      Channel channel = self ? null : channels.apply(member.address());
      (member.draining() ? drainingCas : activeCas).put(member.id(),
          self ? selfCas : new GrpcBlobStore(channel, member.address()));
      (member.draining() ? drainingAc : activeAc).put(member.id(),
          self ? selfActionCache : new GrpcActionCache(channel));
    }
    casPlacement = new Placement<>(activeCas, drainingCas, Math.max(1, replicas));
    actionCachePlacement = new Placement<>(activeAc, drainingAc, Math.max(1, replicas));
    members = java.util.List.copyOf(newMembers);
    keepChannels.accept(newMembers.stream().map(Member::address).collect(java.util.stream.Collectors.toSet()));
    this.replicas = Math.max(1, replicas);
  }

  /** Copies wanted, as last configured (before capping at the number of members). */
  public int replicas() {
    return replicas;
  }

  /** Whether {@code id} is a member that takes no new copies. */
  public boolean isDraining(String id) {
    return members.stream().anyMatch(m -> m.id().equals(id) && m.draining());
  }

  public BlobStore cas() {
    return cas;
  }

  public ActionCache actionCache() {
    return actionCache;
  }

  public Placement<BlobStore> casPlacement() {
    return casPlacement;
  }

  public Placement<ActionCache> actionCachePlacement() {
    return actionCachePlacement;
  }

  public Collection<Member> members() {
    return members;
  }

  public Repairer repairer() {
    return repairer;
  }

  @Override
  public void close() {
    repairer.close();
    pool.shutdownNow();
  }
}
