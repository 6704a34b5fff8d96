package build.rex.worker.cluster;

import build.rex.storage.replication.ClusterStorage;
import build.rex.v1.Member;
import build.rex.v1.Membership;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The storage membership as this worker sees it: the union of what every connected scheduler
 * says (a member draining for any of them is draining). When no scheduler is connected the last
 * membership stays in force, so a scheduler restart does not make blobs look homeless.
 */
public final class MembershipView {
  private final ClusterStorage storage;
  private final Runnable onChange;
  private final Map<SchedulerLink, Membership> bySchedulers = new HashMap<>();
  private List<ClusterStorage.Member> current = List.of();

  public MembershipView(ClusterStorage storage, Runnable onChange) {
    this.storage = storage;
    this.onChange = onChange;
  }

  public void update(SchedulerLink from, Membership membership) {
    synchronized (this) {
      bySchedulers.put(from, membership);
      if (!recompute()) {
        return;
      }
    }
    onChange.run();
  }

  public void schedulerGone(SchedulerLink link) {
    synchronized (this) {
      if (bySchedulers.remove(link) == null || bySchedulers.isEmpty() || !recompute()) {
        return;
      }
    }
    onChange.run();
  }

  /** The ids of the storage members as the schedulers describe them now. */
  public synchronized List<String> memberIds() {
    return current.stream().map(ClusterStorage.Member::id).toList();
  }

  /** True when the merged membership changed. */
  private boolean recompute() {
    Map<String, ClusterStorage.Member> merged = new LinkedHashMap<>();
    int replicas = 1;
    for (Membership membership : bySchedulers.values()) {
      replicas = Math.max(replicas, membership.getReplicas());
      for (Member member : membership.getMembersList()) {
        ClusterStorage.Member known = merged.get(member.getWorkerId());
        boolean draining = member.getDraining() || (known != null && known.draining());
        merged.put(member.getWorkerId(), new ClusterStorage.Member(member.getWorkerId(), member.getAddress(), draining));
      }
    }
    List<ClusterStorage.Member> members = merged.values().stream()
        .sorted(java.util.Comparator.comparing(ClusterStorage.Member::id)).toList();
    if (Objects.equals(members, current) && replicas == storage.replicas()) {
      return false;
    }
    current = members;
    storage.update(members, replicas);
    return true;
  }
}
