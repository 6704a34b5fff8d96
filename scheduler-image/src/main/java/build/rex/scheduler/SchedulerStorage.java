package build.rex.scheduler;

import build.rex.scheduler.cluster.ObjectStorageBackup;
import build.rex.server.PeerChannels;
import build.rex.storage.BlobStore;
import build.rex.storage.ac.ActionCache;
import build.rex.storage.ac.ActionKey;
import build.rex.storage.ac.CompletenessCheckingActionCache;
import build.rex.storage.ac.InMemoryActionCache;
import build.rex.storage.cache.CachingBlobStore;
import build.rex.storage.cache.ConfirmedBlobs;
import build.rex.storage.cache.ExistenceCachingBlobStore;
import build.rex.storage.cache.ExistenceRecordingBlobStore;
import build.rex.storage.cache.RecentKeys;
import build.rex.storage.coalesce.CoalescingBlobStore;
import build.rex.storage.replication.ClusterStorage;
import build.rex.storage.replication.RateLimiter;
import build.rex.storage.replication.Repairer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The scheduler's storage, composed from its configuration in this one place:
 * <pre>
 * CAS:          Caching( ExistenceRecording( Coalescing( [BackedUp( ] Replicating( GrpcBlobStore(worker) ... ) [, S3 )] ) ) )
 * checks:       ExistenceCaching( CAS )         (both existence layers share one ConfirmedBlobs)
 * Action Cache: CompletenessChecking( InMemory( [BackedUp( ] Replicating( GrpcActionCache(worker) ... ) [, S3 )] ),
 *                                     checks )
 * Execute's:    CompletenessChecking( InMemory(...).trustingRecentMisses(), checks )   (the same InMemory)
 * </pre>
 * The scheduler keeps no blobs itself: the workers it is told about hold them.
 */
final class SchedulerStorage implements AutoCloseable {
  /** The workers' storage, as the membership last announced it. */
  final ClusterStorage cluster;
  /** What clients read and write: presence always asked of the workers. */
  final BlobStore cas;
  /**
   * The same blobs, for this scheduler's own checks (Execute's inputs, hits' completeness):
   * presence the workers confirmed within cas.existenceCacheSeconds is not asked again.
   */
  final BlobStore checks;
  /** Results this scheduler stored or read lately, in front of the workers' Action Cache. */
  final InMemoryActionCache recentResults;
  /** What clients read: an entry only when every blob it names is in the CAS. */
  final ActionCache actionCache;
  /**
   * What Execute reads: the same, except that a miss the workers answered within
   * actionCache.recentMissSeconds (the client's own GetActionResult, just before) is not asked again.
   */
  final ActionCache executeLookups;
  private final ObjectStorageBackup backup;
  /** Which blobs the workers confirmed lately; null when cas.existenceCacheSeconds is 0. */
  private final ConfirmedBlobs confirmedBlobs;
  /**
   * Presence checks (clients' and completeness checks of hits) and small writes are merged while
   * this many of each run: concurrent callers then cost a call to the workers per round trip, not
   * one each; more than one, so a slow owner holds up only some.
   */
  private static final int CALLS_IN_FLIGHT = 2;
  /** As many digests as one FindMissingBlobs to a worker carries. */
  private static final int DIGESTS_PER_CHECK_CALL = 10_000;
  /** The largest blob kept in memory: larger reads stream through. */
  private static final long MAX_CACHED_BLOB = 1 << 20;

  private SchedulerStorage(ClusterStorage cluster, ObjectStorageBackup backup, ConfirmedBlobs confirmedBlobs,
      BlobStore cas, InMemoryActionCache recentResults) {
    this.cluster = cluster;
    this.backup = backup;
    this.confirmedBlobs = confirmedBlobs;
    this.cas = cas;
    this.checks = confirmedBlobs == null ? cas : new ExistenceCachingBlobStore(cas, confirmedBlobs);
    this.recentResults = recentResults;
    this.actionCache = new CompletenessCheckingActionCache(recentResults, checks);
    this.executeLookups = new CompletenessCheckingActionCache(recentResults.trustingRecentMisses(), checks);
  }

  static SchedulerStorage open(SchedulerConfig config, PeerChannels workerChannels, MeterRegistry metrics)
      throws IOException {
    ClusterStorage cluster = new ClusterStorage(workerChannels::get, workerChannels::retainOnly, null, null, null,
        new RateLimiter(config.cas.repairBandwidth.bytes()));
    BlobStore cas = cluster.cas();
    ActionCache durable = cluster.actionCache();
    ObjectStorageBackup backup = null;
    if (config.backup.enabled) {
      try {
        backup = ObjectStorageBackup.open(config.backup, cas, durable, metrics);
      } catch (IOException | RuntimeException e) {
        cluster.close();
        throw e;
      }
      cas = backup.cas();
      durable = backup.actionCache();
    }
    cas = new CoalescingBlobStore(cas, CALLS_IN_FLIGHT, DIGESTS_PER_CHECK_CALL);
    ConfirmedBlobs confirmedBlobs = null;
    if (config.cas.existenceCacheSeconds > 0) {
      confirmedBlobs = new ConfirmedBlobs(Duration.ofSeconds(config.cas.existenceCacheSeconds),
          config.cas.existenceCacheEntries, System::nanoTime);
      FunctionCounter.builder("rex.cas.existence.hits", confirmedBlobs, ConfirmedBlobs::hits)
          .description("Digests this scheduler's checks found present without asking the workers"
              + " (cas.existenceCacheSeconds)").register(metrics);
      FunctionCounter.builder("rex.cas.existence.misses", confirmedBlobs, ConfirmedBlobs::misses)
          .description("Digests whose presence this scheduler's checks asked of the workers").register(metrics);
      cas = new ExistenceRecordingBlobStore(cas, confirmedBlobs);
    }
    CachingBlobStore recentBlobs = new CachingBlobStore(cas, config.cas.memoryCacheSize.bytes(),
        Math.min(MAX_CACHED_BLOB, config.cas.memoryCacheSize.bytes() / 16));
    FunctionCounter.builder("rex.cas.memory.hits", recentBlobs, CachingBlobStore::hits)
        .description("Reads of small blobs served from this scheduler's memory").register(metrics);
    FunctionCounter.builder("rex.cas.memory.misses", recentBlobs, CachingBlobStore::misses)
        .description("Reads of small blobs that went to the workers").register(metrics);
    Gauge.builder("rex.cas.memory.bytes", recentBlobs, CachingBlobStore::bytes)
        .description("Bytes of blobs kept in this scheduler's memory (cas.memoryCacheSize)").register(metrics);
    cas = recentBlobs;
    Gauge.builder("rex.cas.repairs.pending", cluster.repairer(), Repairer::pending).register(metrics);
    FunctionCounter.builder("rex.cas.repairs", cluster.repairer(), Repairer::repaired).register(metrics);
    return new SchedulerStorage(cluster, backup, confirmedBlobs, cas,
        new InMemoryActionCache(durable, config.actionCache.memoryEntries, recentMisses(config, metrics)));
  }

  /** Where the Action Cache's misses are remembered for Execute; null when actionCache.recentMissSeconds is 0. */
  private static RecentKeys<ActionKey> recentMisses(SchedulerConfig config, MeterRegistry metrics) {
    if (config.actionCache.recentMissSeconds == 0) {
      return null;
    }
    RecentKeys<ActionKey> misses = new RecentKeys<>(Duration.ofSeconds(config.actionCache.recentMissSeconds),
        Math.max(1, config.actionCache.memoryEntries), System::nanoTime);
    FunctionCounter.builder("rex.action_cache.recent_misses.trusted", misses, RecentKeys::hits)
        .description("Execute calls that took a miss the workers answered lately as their own, asking nothing"
            + " (actionCache.recentMissSeconds)").register(metrics);
    return misses;
  }

  /**
   * Takes the workers' new membership. A worker that left may have held the only copy of some
   * blobs, so what they confirmed before is asked again.
   */
  void update(List<ClusterStorage.Member> members, int replicas) {
    Set<String> staying = members.stream().map(ClusterStorage.Member::id).collect(Collectors.toSet());
    boolean someoneLeft = cluster.members().stream().anyMatch(m -> !staying.contains(m.id()));
    cluster.update(members, replicas);
    if (someoneLeft && confirmedBlobs != null) {
      confirmedBlobs.forgetAll();
    }
  }

  @Override
  public void close() {
    if (backup != null) {
      backup.close();
    }
    cluster.close();
  }
}
