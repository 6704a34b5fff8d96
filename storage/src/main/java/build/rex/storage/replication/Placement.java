package build.rex.storage.replication;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where copies belong at one moment: the cluster's storage members and how many copies each key
 * gets. Owners are the top members by rendezvous hashing among those not draining; draining
 * members own nothing but are still read from, so their blobs stay reachable while they leave.
 */
public final class Placement<T> {
  private final Rendezvous<T> active;
  private final Map<String, T> draining;
  private final int replicas;

  /**
   * @param active members that take new copies, by stable name
   * @param draining members that are leaving
   * @param replicas wanted copies; capped at the number of active members
   */
  public Placement(Map<String, T> active, Map<String, T> draining, int replicas) {
    if (replicas < 1) {
      throw new IllegalArgumentException("replicas must be at least 1, got " + replicas);
    }
    this.active = new Rendezvous<>(active);
    this.draining = Map.copyOf(draining);
    this.replicas = Math.max(1, Math.min(replicas, active.size()));
  }

  public static <T> Placement<T> empty() {
    return new Placement<>(Map.of(), Map.of(), 1);
  }

  /** True when no member can take a copy. */
  public boolean isEmpty() {
    return active.isEmpty();
  }

  /** This placement, or UNAVAILABLE when no member can take a copy (no worker has registered yet). */
  public Placement<T> requireMembers() throws build.rex.storage.RemoteStorageException {
    if (isEmpty()) {
      throw new build.rex.storage.RemoteStorageException(io.grpc.Status.UNAVAILABLE.withDescription(
          "no storage worker is connected to this scheduler yet"));
    }
    return this;
  }

  /** Copies each key gets right now. */
  public int replicas() {
    return replicas;
  }

  /** The members that should hold {@code key}, best first. */
  public List<T> owners(String key) {
    return active.top(key, replicas);
  }

  public List<String> ownerNames(String key) {
    return active.topNames(key, replicas);
  }

  /** Every member that is not an owner of {@code key}: where a stray copy may still be. */
  public List<T> others(String key) {
    List<T> owners = owners(key);
    List<T> rest = new ArrayList<>();
    for (T member : active.all()) {
      if (!owners.contains(member)) {
        rest.add(member);
      }
    }
    rest.addAll(draining.values());
    return rest;
  }

  /** Every member, active first. */
  public List<T> members() {
    List<T> all = new ArrayList<>(active.all());
    all.addAll(draining.values());
    return all;
  }
}
