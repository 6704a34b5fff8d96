package build.rex.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputFile;
import build.rex.storage.BlobWriter;
import build.rex.storage.Digests;
import build.rex.storage.remote.GrpcBlobStore;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every operation ends, whatever process dies. {@code bin/rex local --schedulers 2 --workers 3
 * --restart} (two copies of every blob) takes rounds of Executes from a Bazel-like client
 * ({@link ReapiClient}), each action with fresh inputs spread over all workers, some large
 * enough to be streamed; in every round one process is killed (a worker or a scheduler, SIGKILL
 * or SIGTERM) at one of four moments: as the work is submitted (inputs being fetched), while
 * the victim executes, half way (outputs being uploaded), near the end. The launcher starts it
 * again, as Kubernetes would. Every round: every action succeeds within {@link #BOUND_SECONDS}
 * with the bytes a local run gives, and no scheduler's watchdog ever found an orphaned
 * operation. A hang fails the round with every scheduler's operations and their histories.
 *
 * <p>{@code -Drex.faultRounds=100} makes it a soak (docs/robustness.md).
 */
class FaultInjectionTest {
  static final int ROUNDS = Integer.getInteger("rex.faultRounds", 20);
  static final int ACTIONS = 24;
  /** Far below any timeout of Bazel's (none by default for execution, 60 s for a call). */
  static final long BOUND_SECONDS = 60;
  private static final String[] VICTIMS = {"worker-0", "worker-1", "worker-2", "scheduler-0", "scheduler-1"};
  private static final String WATCHDOG = "rex_watchdog_orphaned_operations_total";

  enum Moment { SUBMITTED, EXECUTING, HALF_DONE, NEARLY_DONE }

  /** How the victim goes: killed, stopped as Kubernetes stops a pod, or hung for a while (alive, silent). */
  enum Fault { SIGKILL, SIGTERM, SIGSTOP }

  /** How long a hung process stays stopped: longer than execution.workerLostAfterSeconds (10 s). */
  static final long HANG_SECONDS = 12;

  @TempDir static Path scratch;
  private static RexLocal cluster;
  private static List<ManagedChannel> channels = List.of();
  private static final ExecutorService clients = Executors.newFixedThreadPool(ACTIONS);
  private static double orphansSeen;

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = RexLocal.start(scratch.resolve("data"), "--schedulers", "2", "--workers", "3", "--restart");
    awaitHealthy();
  }

  @AfterAll
  static void stopCluster() throws Exception {
    clients.shutdownNow();
    channels.forEach(ManagedChannel::shutdownNow);
    if (cluster != null) {
      try {
        System.out.printf("workers' steps retried after a peer fault: %d; actions reported UNAVAILABLE for it: %d%n",
            workerLogLines("trying again in"), workerLogLines("could not reach the cluster's storage"));
        assertEquals(List.of(), watchdogLines(), "the watchdog logged orphaned operations");
      } finally {
        cluster.close();
      }
    }
  }

  @TestFactory
  Stream<DynamicTest> everyOperationEndsWhateverProcessDies() {
    return IntStream.range(0, ROUNDS).mapToObj(round -> {
      String victim = VICTIMS[round % VICTIMS.length];
      Moment moment = Moment.values()[round % Moment.values().length];
      Fault fault = round % 10 == 1 || round % 10 == 8 ? Fault.SIGSTOP
          : (round / 20 + round) % 2 == 0 ? Fault.SIGKILL : Fault.SIGTERM;
      String what = "round " + round + ": " + fault + " " + victim + " " + moment;
      return DynamicTest.dynamicTest(what, () -> round(round, victim, moment, fault));
    });
  }

  /** One action of a round: its request, its inputs and what its outputs must be. */
  private record Work(ExecuteRequest request, Map<Digest, ByteString> blobs, ByteString expectedCat, String expectedCount) {}

  private void round(int round, String victim, Moment moment, Fault fault) throws Exception {
    // Fresh connections each round, as a new Bazel opens: the balancer spreads them over both schedulers.
    channels.forEach(ManagedChannel::shutdownNow);
    channels = IntStream.range(0, 4)
        .mapToObj(i -> NettyChannelBuilder.forAddress("127.0.0.1", cluster.port).usePlaintext().build()).toList();
    Random random = new Random(round * 7919L + 17);
    List<Work> work = new ArrayList<>();
    for (int i = 0; i < ACTIONS; i++) {
      work.add(work(round, i, random));
    }
    GrpcBlobStore cas = new GrpcBlobStore(channels.get(0), "cluster");
    for (Work w : work) {
      upload(cas, w.blobs());
    }
    AtomicInteger done = new AtomicInteger();
    List<Future<ReapiClient.Outcome>> outcomes = new ArrayList<>();
    for (int i = 0; i < ACTIONS; i++) {
      Work w = work.get(i);
      ManagedChannel channel = channels.get(i % channels.size());
      outcomes.add(clients.submit(() -> {
        try {
          return ReapiClient.execute(channel, w.request(), () -> upload(new GrpcBlobStore(channel, "cluster"), w.blobs()),
              BOUND_SECONDS);
        } finally {
          done.incrementAndGet();
        }
      }));
    }
    ProcessHandle victimProcess = cluster.server(victim);
    awaitMoment(victim, moment, done);
    if (victim.startsWith("scheduler")) {
      orphansSeen += orphans(victim); // its count dies with it
    }
    switch (fault) {
      case SIGKILL -> victimProcess.destroyForcibly();
      case SIGTERM -> victimProcess.destroy();
      case SIGSTOP -> hang(victimProcess);
    }

    List<String> failures = new ArrayList<>();
    int retried = 0;
    long slowest = 0;
    String example = "";
    for (int i = 0; i < ACTIONS; i++) {
      try {
        ReapiClient.Outcome outcome = outcomes.get(i).get(BOUND_SECONDS + 10, TimeUnit.SECONDS);
        check(cas, work.get(i), outcome);
        if (outcome.retries() > 0) {
          retried++;
          example = String.join("\n    ", outcome.steps());
        }
        slowest = Math.max(slowest, outcome.millis());
      } catch (Exception | AssertionError e) {
        failures.add("action " + i + ": " + e);
      }
    }
    if (!failures.isEmpty()) {
      throw new AssertionError(failures.size() + " of " + ACTIONS + " actions failed:\n" + String.join("\n", failures)
          + "\n\nthe processes' logs are in " + keepLogs(round) + "; the schedulers' operations:\n" + operations());
    }
    awaitHealthy();
    System.out.printf("%s: %d actions ok, %d retried by the client, slowest %d ms; attempts ended without a result"
        + " so far (live schedulers): %s%s%n", "round " + round, ACTIONS, retried, slowest, endings(),
        example.isEmpty() ? "" : "; one retried:\n    " + example);
    for (int i = 0; i < 2; i++) {
      assertEquals(0, orphans("scheduler-" + i), "scheduler-" + i + "'s watchdog found orphaned operations:\n"
          + operations());
    }
    assertEquals(0, orphansSeen, "a killed scheduler's watchdog had found orphaned operations");
  }

  /** Stops the process (alive, its connections open, silent) for a while, then lets it go on. */
  private static void hang(ProcessHandle process) throws Exception {
    signal("STOP", process);
    try {
      Thread.sleep(TimeUnit.SECONDS.toMillis(HANG_SECONDS)); // the fault itself: nothing is checked meanwhile
    } finally {
      signal("CONT", process);
    }
  }

  private static void signal(String name, ProcessHandle process) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
    assertEquals(0, kill.waitFor(), "kill -" + name);
  }

  private static Work work(int round, int index, Random random) {
    ByteString a = random(random, 1 + random.nextInt(200_000));
    // One action in four has an input streamed (above the 1 MiB batch limit) rather than batched.
    ByteString b = random(random, index % 4 == 0 ? (3 << 20) / 2 + random.nextInt(1 << 20) : random.nextInt(50_000));
    Directory root = Directory.newBuilder()
        .addFiles(FileNode.newBuilder().setName("a").setDigest(Digests.of(a)))
        .addFiles(FileNode.newBuilder().setName("b").setDigest(Digests.of(b)))
        .build();
    double pause = 0.1 + random.nextInt(5) / 10.0;
    Command command = Command.newBuilder().addArguments("/bin/sh").addArguments("-c")
        .addArguments("sleep " + pause + " && cat a b > out/cat && wc -c < a > out/count")
        .addOutputPaths("out/cat").addOutputPaths("out/count")
        .addEnvironmentVariables(Command.EnvironmentVariable.newBuilder().setName("ROUND").setValue(round + "/" + index))
        .build();
    Action action = Action.newBuilder().setCommandDigest(Digests.of(command.toByteString()))
        .setInputRootDigest(Digests.of(root.toByteString())).build();
    Map<Digest, ByteString> blobs = new LinkedHashMap<>();
    for (ByteString blob : List.of(a, b, root.toByteString(), command.toByteString(), action.toByteString())) {
      blobs.put(Digests.of(blob), blob);
    }
    ExecuteRequest request = ExecuteRequest.newBuilder().setActionDigest(Digests.of(action.toByteString())).build();
    return new Work(request, blobs, a.concat(b), a.size() + "\n");
  }

  private static ByteString random(Random random, int size) {
    byte[] bytes = new byte[size];
    random.nextBytes(bytes);
    return ByteString.copyFrom(bytes);
  }

  /** Uploads what the CAS lacks: small blobs in one batch, large ones streamed. */
  private static void upload(GrpcBlobStore cas, Map<Digest, ByteString> blobs) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BOUND_SECONDS);
    while (true) {
      try {
        Map<Digest, ByteString> batch = new LinkedHashMap<>();
        for (Digest digest : cas.findMissing(blobs.keySet())) {
          if (digest.getSizeBytes() < (1 << 20)) {
            batch.put(digest, blobs.get(digest));
          } else {
            try (BlobWriter writer = cas.newWriter(digest)) {
              if (!writer.isComplete()) {
                writer.write(blobs.get(digest));
                writer.commit();
              }
            }
          }
        }
        Map<Digest, IOException> failed = cas.putBatch(batch);
        if (failed.isEmpty()) {
          return;
        }
        throw failed.values().iterator().next();
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(200); // a process died under the upload: as Bazel, try again
      }
    }
  }

  private static void check(GrpcBlobStore cas, Work work, ReapiClient.Outcome outcome) throws Exception {
    ExecuteResponse response = outcome.response();
    String steps = String.join("\n  ", outcome.steps());
    assertEquals(0, response.getStatus().getCode(), response.getStatus().getMessage() + "\n  " + steps);
    assertEquals(0, response.getResult().getExitCode(), steps);
    assertTrue(outcome.millis() < BOUND_SECONDS * 1000, "took " + outcome.millis() + " ms:\n  " + steps);
    Map<String, Digest> files = new LinkedHashMap<>();
    for (OutputFile file : response.getResult().getOutputFilesList()) {
      files.put(file.getPath(), file.getDigest());
    }
    assertEquals(List.of("out/cat", "out/count"), List.copyOf(files.keySet()));
    assertEquals(Digests.of(work.expectedCat()), files.get("out/cat"), "out/cat is a + b");
    assertTrue(work.expectedCat().equals(read(cas, files.get("out/cat"))), "out/cat's bytes from the CAS");
    assertEquals(work.expectedCount(), read(cas, files.get("out/count")).toStringUtf8());
  }

  /** Reads a blob, again while the scheduler behind this connection is being replaced. */
  private static ByteString read(GrpcBlobStore cas, Digest digest) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        return cas.get(digest);
      } catch (build.rex.storage.RemoteStorageException e) {
        if (System.nanoTime() > deadline || e.status().getCode() != io.grpc.Status.Code.UNAVAILABLE) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
  }

  /** Waits (at most 20 s: then the kill comes anyway) for the moment the round calls for. */
  private static void awaitMoment(String victim, Moment moment, AtomicInteger done) throws Exception {
    switch (moment) {
      case SUBMITTED -> { }
      case EXECUTING -> {
        int port = victim.startsWith("worker") ? cluster.workerAdminPort(index(victim)) : -1;
        Await.upTo(20_000, 20, () -> port < 0 ? busyExecutors() > 0 : RexLocal.metric(port, "rex_executors_busy", "") > 0);
      }
      case HALF_DONE -> Await.upTo(20_000, 20, () -> done.get() >= ACTIONS / 2);
      case NEARLY_DONE -> Await.upTo(20_000, 20, () -> done.get() >= ACTIONS - 3);
    }
  }

  private static double busyExecutors() throws Exception {
    double busy = 0;
    for (int i = 0; i < 3; i++) {
      busy += RexLocal.metric(cluster.workerAdminPort(i), "rex_executors_busy", "");
    }
    return busy;
  }

  private static int index(String name) {
    return Integer.parseInt(name.substring(name.indexOf('-') + 1));
  }

  private static Map<String, Double> endings() throws Exception {
    Map<String, Double> endings = new java.util.TreeMap<>();
    for (String reason : List.of("declined", "worker_lost", "assignment_lost", "storage_unreachable")) {
      double sum = 0;
      for (int i = 0; i < 2; i++) {
        sum += RexLocal.metric(cluster.schedulerAdminPort(i), "rex_execution_attempts_ended_total", "\"" + reason + "\"");
      }
      endings.put(reason, sum);
    }
    return endings;
  }

  private static double orphans(String scheduler) throws Exception {
    return RexLocal.metric(cluster.schedulerAdminPort(index(scheduler)), WATCHDOG, "");
  }

  /** The victim is back and every scheduler sees all three workers and their executors again. */
  private static void awaitHealthy() throws Exception {
    Await.until("the cluster to be whole again", 120, () -> {
      for (int i = 0; i < 2; i++) {
        int admin = cluster.schedulerAdminPort(i);
        if (!cluster.admin("GET", admin, "/readyz").startsWith("ready")
            || RexLocal.metric(admin, "rex_workers_connected", "") != 3
            || RexLocal.metric(admin, "rex_executors_connected", "") != 3 * Runtime.getRuntime().availableProcessors()) {
          return false;
        }
      }
      return true;
    });
  }

  private static String operations() {
    StringBuilder all = new StringBuilder();
    for (int i = 0; i < 2; i++) {
      try {
        all.append("scheduler-").append(i).append(": ")
            .append(cluster.admin("GET", cluster.schedulerAdminPort(i), "/operations")).append('\n');
      } catch (Exception e) {
        all.append("scheduler-").append(i).append(": unreachable (").append(e).append(")\n");
      }
    }
    return all.toString();
  }

  /** Copies every process's log to target/, where CI keeps it. */
  private static Path keepLogs(int round) throws IOException {
    Path kept = Path.of("target", "fault-injection", "round-" + round).toAbsolutePath();
    Files.createDirectories(kept);
    for (String name : List.of("scheduler-0", "scheduler-1", "worker-0", "worker-1", "worker-2")) {
      Path log = cluster.dataDir.resolve(name).resolve(name.replaceAll("-.*", "") + ".log");
      if (Files.exists(log)) {
        Files.copy(log, kept.resolve(name + ".log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return kept;
  }

  private static long workerLogLines(String text) throws IOException {
    long count = 0;
    for (int i = 0; i < 3; i++) {
      Path log = cluster.dataDir.resolve("worker-" + i).resolve("worker.log");
      if (Files.exists(log)) {
        count += Files.readAllLines(log).stream().filter(line -> line.contains(text)).count();
      }
    }
    return count;
  }

  private static List<String> watchdogLines() throws IOException {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Path log = cluster.dataDir.resolve("scheduler-" + i).resolve("scheduler.log");
      if (Files.exists(log)) {
        Files.readAllLines(log).stream().filter(line -> line.contains("WATCHDOG")).forEach(lines::add);
      }
    }
    return lines;
  }
}
