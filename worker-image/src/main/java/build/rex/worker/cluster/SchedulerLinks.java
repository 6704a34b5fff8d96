package build.rex.worker.cluster;

import build.rex.server.PeerChannels;
import build.rex.server.SchedulerDiscovery;
import build.rex.storage.DaemonThreads;
import build.rex.v1.AssignmentDeclined;
import build.rex.v1.Heartbeat;
import build.rex.v1.StorageFigures;
import build.rex.v1.Hello;
import build.rex.v1.SchedulerMessage;
import build.rex.v1.WorkerMessage;
import build.rex.worker.execution.ExecutorPool;
import build.rex.worker.execution.SchedulerConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link SchedulerLink} per scheduler the discovery finds, kept in step with it; routes
 * what schedulers send (work, cancels, membership, drain requests) and sends heartbeats.
 */
public final class SchedulerLinks implements SchedulerLink.Listener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SchedulerLinks.class);
  private static final long HEARTBEAT_SECONDS = 2;
  private final SchedulerDiscovery discovery;
  private final PeerChannels channels;
  private final Supplier<Hello> hello;
  private final Map<String, SchedulerLink> links = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("scheduler-links"));
  private ExecutorPool pool;
  private MembershipView membership;
  private Drainer drainer;
  private Supplier<StorageFigures> storageFigures = StorageFigures::getDefaultInstance;

  public SchedulerLinks(SchedulerDiscovery discovery, PeerChannels channels, Supplier<Hello> hello) {
    this.discovery = discovery;
    this.channels = channels;
    this.hello = hello;
  }

  /** Wires what the links report to, then connects. {@code pool} is null on a storage-only worker. */
  public void start(ExecutorPool pool, MembershipView membership, Drainer drainer,
      Supplier<StorageFigures> storageFigures) {
    this.storageFigures = storageFigures;
    this.pool = pool;
    this.membership = membership;
    this.drainer = drainer;
    timer.scheduleWithFixedDelay(this::refresh, 0, discovery.refreshSeconds, TimeUnit.SECONDS);
    timer.scheduleAtFixedRate(this::heartbeats, HEARTBEAT_SECONDS, HEARTBEAT_SECONDS, TimeUnit.SECONDS);
  }

  /** Each scheduler hears what this worker holds for it (see the Heartbeat message). */
  private void heartbeats() {
    for (SchedulerLink link : links.values()) {
      try {
        link.sendComputed(() -> WorkerMessage.newBuilder()
            .setHeartbeat((pool == null ? Heartbeat.newBuilder() : pool.heartbeat(link).toBuilder())
                .setStorage(storageFigures.get())).build());
      } catch (RuntimeException e) {
        log.warn("could not send a heartbeat to {}: {}", link.address(), e.toString());
      }
    }
  }

  private void refresh() {
    try {
      Set<String> found = discovery.resolve();
      if (found.isEmpty()) {
        return; // DNS hiccup or no scheduler yet: keep what we have
      }
      for (String address : found) {
        links.computeIfAbsent(address, a -> {
          log.info("registering with scheduler {}", a);
          return new SchedulerLink(a, channels.get(a), this).start();
        });
      }
      for (String address : List.copyOf(links.keySet())) {
        if (!found.contains(address)) {
          log.info("scheduler {} left the cluster", address);
          SchedulerLink link = links.remove(address);
          link.close();
          onDown(link);
        }
      }
      channels.retainOnly(found);
    } catch (RuntimeException e) {
      log.warn("could not refresh the schedulers: {}", e.toString());
    }
  }

  @Override
  public List<WorkerMessage> greeting() {
    List<WorkerMessage> greeting = new ArrayList<>();
    greeting.add(WorkerMessage.newBuilder().setHello(hello.get().toBuilder().setDraining(drainer.isDraining())
        .addAllKnownMembers(membership.memberIds())).build());
    if (drainer.isDraining()) {
      greeting.add(WorkerMessage.newBuilder().setStatus(drainer.status()).build());
    } else if (pool != null) {
      greeting.addAll(pool.freeExecutors());
    }
    return greeting;
  }

  @Override
  public void onMessage(SchedulerLink link, SchedulerMessage message) {
    switch (message.getMessageCase()) {
      case ASSIGNMENT -> {
        if (pool != null) {
          pool.offer(link, message.getAssignment());
        } else {
          link.send(WorkerMessage.newBuilder().setDeclined(AssignmentDeclined.newBuilder()
              .setOperation(message.getAssignment().getOperation())
              .setExecutorId(message.getAssignment().getExecutorId())
              .setAttempt(message.getAssignment().getAttempt())).build());
        }
      }
      case CANCEL -> {
        if (pool != null) {
          pool.cancel(link, message.getCancel().getOperation(), message.getCancel().getAttempt());
        }
      }
      case MEMBERSHIP -> membership.update(link, message.getMembership());
      case DRAIN -> {
        if (message.getDrain().getUndo()) {
          drainer.undo();
        } else {
          drainer.start();
        }
      }
      default -> log.debug("empty message from scheduler {}", link.address());
    }
  }

  @Override
  public void onDown(SchedulerLink link) {
    if (pool != null) {
      pool.schedulerLost(link);
    }
    membership.schedulerGone(link);
  }

  /** Sends to every connected scheduler except {@code except} (null: all of them). */
  public void broadcast(SchedulerConnection except, WorkerMessage message) {
    for (SchedulerLink link : links.values()) {
      if (link != except) {
        link.send(message);
      }
    }
  }

  /** Schedulers this worker is connected to now. */
  public int connected() {
    return (int) links.values().stream().filter(SchedulerLink::isConnected).count();
  }

  @Override
  public void close() {
    timer.shutdownNow();
    links.values().forEach(SchedulerLink::close);
    links.clear();
  }
}
