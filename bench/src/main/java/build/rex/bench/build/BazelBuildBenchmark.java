package build.rex.bench.build;

import build.rex.bench.report.ResultTable;
import build.rex.bench.report.Samples;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Real Bazel builds of the generated workspace against rex (with its defaults, and with as many
 * executors as the reference server has jobs), against Bazel's RemoteWorker, and locally with no
 * remote: every round starts each server afresh, and the order of the servers rotates from round
 * to round so none always runs on a machine warmed (or tired) by another. Two floors bound what
 * any server could reach here: the machine's CPU outside the servers during a cold build (Bazel
 * and the actions; the build keeps both cores busy), and a warm rebuild from Bazel's own disk
 * cache, with no server at all.
 */
public final class BazelBuildBenchmark {
  /** {@code jobs}: the reference server's (and rex's "equal" run's) executors; Bazel runs twice as many. */
  public record Settings(Path repo, Path scratch, int rounds, int jobs, List<String> systems) {
    /** Every system the table compares. */
    public static final List<String> ALL = List.of("rex", "rex-equal", "reference", "reference-proxied", "local",
        "disk-cache");
  }

  private final Settings settings;
  /** The cold build's targets: rex's time as a share of the reference's, with each setting. */
  private static final Map<String, Double> BUDGET_SHARES = Map.of("rex", 0.85, "rex-equal", 0.90);

  private final Map<String, Samples> figures = new LinkedHashMap<>();
  /** This round's value of each figure, for the figures derived from several systems' runs. */
  private final Map<String, Double> thisRound = new LinkedHashMap<>();
  /** Actions a cold build ran remotely, as Bazel counted them. */
  private int remoteActions;

  public BazelBuildBenchmark(Settings settings) {
    this.settings = settings;
  }

  private Samples figure(String name) {
    return figures.computeIfAbsent(name, n -> new Samples());
  }

  private void record(String name, double value) {
    figure(name).add(value);
    thisRound.put(name, value);
  }

  public void run(ResultTable table) throws Exception {
    Path workspace = settings.scratch().resolve("workspace");
    WorkspaceGenerator.write(workspace, "initial");
    ReferenceServer.Compiled reference = ReferenceServer.compile(Files.createDirectories(
        settings.scratch().resolve("remote-worker-classes")));
    Path stubs = settings.repo().resolve("e2e/src/test/bazel/stubs");
    List<String> systems = new ArrayList<>(settings.systems());
    Map<String, BazelClient> clients = new LinkedHashMap<>();
    for (String system : systems) {
      clients.put(system, new BazelClient(workspace, settings.scratch().resolve("output-base-" + system), stubs,
          2 * settings.jobs()));
    }
    for (BazelClient client : clients.values()) {
      client.warmUp();
    }
    int port = 18980;
    for (String system : systems) {
      if (system.startsWith("rex")) {
        port += 100;
        installRex(clients.get(system), workspace, settings.scratch().resolve("install-" + system), port);
        break;
      }
    }
    for (int round = 0; round < settings.rounds(); round++) {
      System.err.printf("bazel builds: round %d of %d%n", round + 1, settings.rounds());
      thisRound.clear();
      for (String system : systems) {
        BazelClient bazel = clients.get(system);
        if (system.equals("local")) {
          WorkspaceGenerator.salt(workspace, UUID.randomUUID().toString());
          double busyBefore = MachineCpu.busySeconds();
          record("local cold", bazel.cleanBuild(null).seconds());
          record("local outside", MachineCpu.busySeconds() - busyBefore);
          continue;
        }
        if (system.equals("disk-cache")) {
          record("disk-cache warm", diskCacheWarm(bazel, workspace, settings.scratch().resolve("disk-cache-" + round)));
          continue;
        }
        Path data = settings.scratch().resolve("data-" + system + "-" + round);
        port += 100;
        try (BuildServer server = switch (system) {
          case "reference" -> reference.start(data, port, settings.jobs());
          case "reference-proxied" -> reference.startBehindProxy(data, port, settings.jobs());
          default -> new RexLocalServer(system, settings.repo(), data, port, system.equals("rex") ? 0 : settings.jobs());
        }) {
          measuredCold(system + " first cold", bazel, workspace, server);
          measuredCold(system + " cold", bazel, workspace, server);
          BazelClient.Build warm = bazel.cleanBuild(server.remoteFlag());
          if (warm.count("remote") > 0) {
            throw new IllegalStateException(server.name() + ": the warm rebuild executed " + warm.count("remote")
                + " actions instead of finding them in the cache");
          }
          figure(system + " warm").add(warm.seconds());
          double total = 0;
          for (Map.Entry<String, Double> peak : server.peakRssMiB().entrySet()) {
            figure(system + " rss " + peak.getKey()).add(peak.getValue());
            total += peak.getValue();
          }
          figure(system + " rss total").add(total);
        }
        deleteTree(data);
      }
      BUDGET_SHARES.forEach(this::cpuBudget);
      Collections.rotate(systems, 1);
    }
    for (BazelClient client : clients.values()) {
      client.shutdown();
    }
    String remote = remoteActions + "-action build";
    table.add("cold build, rex defaults (" + defaultExecutors() + " executors)", "s", figure("rex cold"),
        "reference, " + settings.jobs() + " jobs", figure("reference cold"), "<= 0.85");
    table.add("cold build, rex with " + settings.jobs() + " executors", "s", figure("rex-equal cold"),
        "reference, " + settings.jobs() + " jobs", figure("reference cold"), "<= 0.90");
    table.add("warm rebuild after clean, rex defaults", "s", figure("rex warm"), "reference", figure("reference warm"),
        "<= 0.90");
    // The second hop alone: the reference server behind a proxy that only forwards bytes.
    table.add("cold build, reference behind a pass-through proxy", "s", figure("reference-proxied cold"),
        "reference, " + settings.jobs() + " jobs", figure("reference cold"), "");
    table.add("cold build, rex defaults (" + defaultExecutors() + " executors)", "s", figure("rex cold"),
        "reference behind a pass-through proxy", figure("reference-proxied cold"), "");
    table.add("warm rebuild after clean, reference behind a pass-through proxy", "s",
        figure("reference-proxied warm"), "reference", figure("reference warm"), "");
    table.add("first cold build on a fresh rex", "s", figure("rex first cold"), "later cold build, rex",
        figure("rex cold"), "<= 1.20");
    table.add("first cold build on a fresh reference server", "s", figure("reference first cold"),
        "later cold build, reference", figure("reference cold"), "");
    table.add("cold " + remote + ", rex defaults", "s", figure("rex cold"), "local Bazel, no remote",
        figure("local cold"), "");
    for (String system : List.of("rex", "reference")) {
      table.add("warm rebuild after clean, " + (system.equals("rex") ? "rex defaults" : system), "s",
          figure(system + " warm"), "Bazel's disk cache, no server", figure("disk-cache warm"), "");
    }
    table.add("machine CPU busy in a cold build, rex defaults", "share", figure("rex cold busy"), "reference",
        figure("reference cold busy"), "");
    table.add("CPU outside the servers in a cold build (Bazel, actions), rex defaults", "s", figure("rex cold outside"),
        "reference", figure("reference cold outside"), "");
    table.add("CPU of a local cold build (Bazel, actions)", "s", figure("local outside"), "outside the reference",
        figure("reference cold outside"), "");
    for (String system : List.of("rex", "rex-equal")) {
      String which = system.equals("rex") ? "rex defaults" : "rex with " + settings.jobs() + " executors";
      table.add("server CPU in a cold build, " + which, "s", figure(system + " cold cpu"), "reference server",
          figure("reference cold cpu"), "");
      table.add("server CPU in a cold build, " + which, "s", figure(system + " cold cpu"),
          String.format("what %.2f of the reference leaves", BUDGET_SHARES.get(system)), figure(system + " cold cpu budget"), "");
    }
    table.add("server CPU in a cold build, reference behind a pass-through proxy", "s",
        figure("reference-proxied cold cpu"), "reference server", figure("reference cold cpu"), "");
    table.add("  of it in the pass-through proxy", "s", figure("reference-proxied cold cpu proxy"),
        "reference server", figure("reference cold cpu"), "");
    table.add("server CPU in a cold build, rex defaults", "s", figure("rex cold cpu"),
        "reference behind a pass-through proxy", figure("reference-proxied cold cpu"), "");
    table.add("  of it in rex's scheduler", "s", figure("rex cold cpu scheduler"), "the pass-through proxy",
        figure("reference-proxied cold cpu proxy"), "");
    table.add("  of it in rex's worker", "s", figure("rex cold cpu worker"), "reference server",
        figure("reference cold cpu"), "");
    for (BuildServer.ThreadKind kind : BuildServer.ThreadKind.values()) {
      table.add("  of it in " + kind.name().toLowerCase(java.util.Locale.ROOT) + " threads, rex defaults", "s",
          figure("rex cold cpu " + kind), "reference server", figure("reference cold cpu " + kind), "");
    }
    // What a fresh cluster's first build pays on top of a later one's: the servers' CPU, by kind.
    for (String system : List.of("rex", "reference")) {
      String which = system.equals("rex") ? "fresh rex" : "fresh reference server";
      table.add("server CPU in the first cold build, " + which, "s", figure(system + " first cold cpu"),
          "later cold build", figure(system + " cold cpu"), "");
      table.add("CPU outside the servers in the first cold build, " + which, "s",
          figure(system + " first cold outside"), "later cold build", figure(system + " cold outside"), "");
    }
    for (BuildServer.ThreadKind kind : BuildServer.ThreadKind.values()) {
      table.add("  of the first build's in " + kind.name().toLowerCase(java.util.Locale.ROOT) + " threads, fresh rex",
          "s", figure("rex first cold cpu " + kind), "later cold build", figure("rex cold cpu " + kind), "");
    }
    table.add("peak RSS, rex scheduler", "MiB", figure("rex rss scheduler"), "reference server",
        figure("reference rss server"), "<= 256 MiB");
    table.add("peak RSS, rex worker", "MiB", figure("rex rss worker"), "reference server",
        figure("reference rss server"), "<= 384 MiB");
    table.add("peak RSS, rex scheduler + worker", "MiB", figure("rex rss total"), "reference server",
        figure("reference rss server"), "< 1.00");
  }

  /**
   * The server CPU a cold build of {@code system} could spend and still take {@code share} of the
   * reference's time in this round: the CPU the machine gives at the reference run's busy share in
   * that time, less what {@code system}'s own run spent outside its servers.
   */
  private void cpuBudget(String system, double share) {
    Double referenceCold = thisRound.get("reference cold");
    Double referenceBusy = thisRound.get("reference cold busy");
    Double outside = thisRound.get(system + " cold outside");
    if (referenceCold != null && referenceBusy != null && outside != null) {
      figure(system + " cold cpu budget").add(share * referenceCold * MachineCpu.cores() * referenceBusy - outside);
    }
  }

  /**
   * A warm rebuild with no server: a cold build fills a disk cache of Bazel's own, then a build
   * after {@code bazel clean} takes every action from it. What no remote cache can beat here.
   */
  private static double diskCacheWarm(BazelClient bazel, Path workspace, Path cache) throws IOException, InterruptedException {
    WorkspaceGenerator.salt(workspace, UUID.randomUUID().toString());
    String flag = "--disk_cache=" + cache;
    BazelClient.Build cold = bazel.cleanBuild(flag);
    if (cold.count("remote cache hit") > 0) {
      throw new IllegalStateException("disk cache: a cold build was not cold: " + cold.spawns());
    }
    BazelClient.Build warm = bazel.cleanBuild(flag);
    warm.spawns().forEach((kind, count) -> {
      if (!kind.equals("internal") && !kind.equals("remote cache hit") && count > 0) {
        throw new IllegalStateException("disk cache: the warm rebuild ran actions: " + warm.spawns());
      }
    });
    deleteTree(cache);
    return warm.seconds();
  }

  private static void deleteTree(Path root) throws IOException {
    try (var files = Files.walk(root)) {
      files.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static int defaultExecutors() {
    return Math.max(1, MachineCpu.cores());
  }

  /**
   * One untimed cold build on a rex cluster before the rounds, as a user's first use after
   * building rex would be: its servers write their class data archives when they stop (launcher
   * ClassDataArchive), so that the rounds measure an installed rex, the way Bazel's own server is
   * started before them.
   */
  private void installRex(BazelClient bazel, Path workspace, Path data, int port) throws Exception {
    System.err.println("bazel builds: one untimed build on rex, which writes its class data archives");
    try (BuildServer server = new RexLocalServer("rex", settings.repo(), data, port, 0)) {
      cold(bazel, workspace, server);
    }
    deleteTree(data);
  }

  /**
   * A cold build, recorded as {@code name} with what it cost: the server's CPU (also by thread
   * kind), the machine's busy share, and the CPU outside the server (Bazel and the actions).
   */
  private void measuredCold(String name, BazelClient bazel, Path workspace, BuildServer server) throws Exception {
    Map<String, Double> cpuBefore = server.cpuSecondsByRole();
    double busyBefore = MachineCpu.busySeconds();
    Map<String, BuildServer.ThreadCpu> threadsBefore = server.threadCpu();
    double seconds = cold(bazel, workspace, server);
    double busy = MachineCpu.busySeconds() - busyBefore;
    double serverCpu = 0;
    for (Map.Entry<String, Double> role : server.cpuSecondsByRole().entrySet()) {
      double spent = role.getValue() - cpuBefore.getOrDefault(role.getKey(), 0.0);
      figure(name + " cpu " + role.getKey()).add(spent);
      serverCpu += spent;
    }
    record(name, seconds);
    record(name + " cpu", serverCpu);
    record(name + " busy", busy / (seconds * MachineCpu.cores()));
    record(name + " outside", busy - serverCpu);
    BuildServer.cpuByKind(threadsBefore, server.threadCpu()).forEach((kind, cpu) ->
        figure(name + " cpu " + kind).add(cpu));
  }

  /** A build with a new salt: every action is new to every cache, so every one runs remotely. */
  private double cold(BazelClient bazel, Path workspace, BuildServer server) throws IOException, InterruptedException {
    WorkspaceGenerator.salt(workspace, UUID.randomUUID().toString());
    BazelClient.Build build = bazel.cleanBuild(server.remoteFlag());
    if (build.count("remote cache hit") > 0 || build.count("remote") == 0) {
      throw new IllegalStateException(server.name() + ": a cold build was not cold: " + build.spawns());
    }
    remoteActions = build.count("remote");
    return build.seconds();
  }
}
