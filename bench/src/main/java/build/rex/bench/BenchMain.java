package build.rex.bench;

import build.bazel.remote.execution.v2.Digest;
import build.rex.bench.build.BazelBuildBenchmark;
import build.rex.bench.report.ResultTable;
import build.rex.bench.report.Samples;
import build.rex.config.Logging;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The one benchmark command ({@code bench/run}): the machine's limits, the micro figures against
 * rex and Bazel's RemoteWorker, and real Bazel builds, all in one run, printed as one table of
 * medians with their ranges and ratios to baselines measured in the same run.
 *
 * <p>Usage: {@code java -cp rex-bench.jar build.rex.bench.BenchMain --repo DIR [--rounds N]
 * [--only micro|builds] [--blob-mib N] [--systems rex,rex-equal,reference,reference-proxied,local,disk-cache]} (the last
 * for a quicker look at some of the builds; the table then lacks the others' figures).
 */
public final class BenchMain {
  private BenchMain() {}

  public static void main(String[] args) throws Exception {
    Logging.init("warn");
    Path repo = Path.of(".");
    int rounds = 5;
    String only = "all";
    long blobBytes = 1L << 30;
    java.util.List<String> systems = BazelBuildBenchmark.Settings.ALL;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--repo" -> repo = Path.of(args[i + 1]);
        case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
        case "--only" -> only = args[i + 1];
        case "--blob-mib" -> blobBytes = Long.parseLong(args[i + 1]) << 20;
        case "--systems" -> systems = java.util.List.of(args[i + 1].split(","));
        default -> throw new IllegalArgumentException("unknown flag " + args[i]);
      }
    }
    int cores = Runtime.getRuntime().availableProcessors();
    // World-traversable, as a worker's data folder is, so the sandbox user can reach exec roots.
    Path scratch = Files.createTempDirectory(Path.of("/tmp"), "rex-bench",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    ResultTable table = new ResultTable();
    try {
      if (!only.equals("builds")) {
        micro(table, scratch, rounds, blobBytes, repo.toAbsolutePath().normalize());
      }
      if (!only.equals("micro")) {
        new BazelBuildBenchmark(new BazelBuildBenchmark.Settings(repo.toAbsolutePath().normalize(),
            scratch.resolve("builds"), rounds, 4, systems)).run(table);
      }
    } finally {
      try (Stream<Path> files = Files.walk(scratch)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    System.out.printf("rex benchmark, %s: %d cores, %d GiB RAM, Java %s, %d rounds (median, min–max)%n%n",
        java.time.LocalDate.now(), cores, Runtime.getRuntime().maxMemory() > 0
            ? ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getTotalMemorySize() >> 30 : 0, Runtime.version(), rounds);
    table.print(System.out);
  }

  private static void micro(ResultTable table, Path scratch, int rounds, long blobBytes, Path repo) throws Exception {
    int cores = Runtime.getRuntime().availableProcessors();
    byte[] pattern = new byte[64 << 20];
    new Random(42).nextBytes(pattern);
    MicroBenchmark micro = new MicroBenchmark();
    Samples tcp = new Samples();
    Samples sha = new Samples();
    Samples disk = new Samples();
    Samples spawns = new Samples();
    Samples floorUp = new Samples();
    Samples floorDown = new Samples();
    var reference = build.rex.bench.build.ReferenceServer.compile(Files.createDirectories(scratch.resolve("rw-classes")));
    Digest floorBlob = StorageBenchmark.digestOf(pattern, blobBytes); // the floor's server does not check it
    for (int round = 0; round < rounds; round++) {
      System.err.printf("micro figures: round %d of %d%n", round + 1, rounds);
      tcp.add(StorageBenchmark.loopbackTcpMiBps(pattern, blobBytes));
      sha.add(MachineLimits.sha256MiBps(pattern, blobBytes));
      disk.add(MachineLimits.fsyncedWriteMiBps(scratch, pattern, blobBytes));
      spawns.add(ExecutionBenchmark.spawnsPerSecond(1000, cores));
      StorageBenchmark.Floor floor = StorageBenchmark.grpcFloor(pattern, blobBytes, floorBlob);
      floorUp.add(floor.uploadMiBps());
      floorDown.add(floor.downloadMiBps());
      for (boolean sandbox : new boolean[] {true, false}) {
        try (BenchCluster cluster = new BenchCluster(scratch.resolve("rex-" + round + "-" + sandbox), 3 * blobBytes,
            true, cores, sandbox); ReapiTarget rex = ReapiTarget.on("rex", cluster.scheduler.grpcPort())) {
          if (sandbox) {
            micro.byteStream(rex, pattern, blobBytes);
            micro.batchUpdate(rex);
            micro.findMissing(rex);
            micro.actionCache(rex);
          }
          micro.execute(rex, sandbox ? "rex sandbox" : "rex no sandbox", cores, 1000);
        }
      }
      try (var server = reference.start(scratch.resolve("rw-" + round), 19980 + round, cores);
          ReapiTarget rw = ReapiTarget.on("reference", 19980 + round)) {
        micro.byteStream(rw, pattern, blobBytes);
        micro.batchUpdate(rw);
        micro.findMissing(rw);
        micro.actionCache(rw);
        micro.execute(rw, "reference", cores, 1000);
      }
    }
    String size = (blobBytes >> 20) + " MiB";
    table.add("machine: loopback TCP copy", "MiB/s", tcp, null, null, "");
    table.add("machine: SHA-256", "MiB/s", sha, null, null, "");
    table.add("machine: fsync'd disk write", "MiB/s", disk, null, null, "");
    table.add("machine: parallel ProcessBuilder spawns of true", "/s", spawns, null, null, "");
    table.add("machine: one gRPC hop, no storage, upload " + size, "MiB/s", floorUp, "loopback TCP", tcp, "");
    table.add("machine: one gRPC hop, no storage, download " + size, "MiB/s", floorDown, "loopback TCP", tcp, "");
    table.add("ByteStream upload " + size + " via scheduler", "MiB/s", micro.figure("rex upload"),
        "fsync'd disk write", disk, ">= 0.60");
    table.add("ByteStream upload " + size + " via scheduler", "MiB/s", micro.figure("rex upload"),
        "loopback TCP", tcp, "");
    table.add("ByteStream download " + size + " via scheduler", "MiB/s", micro.figure("rex download"),
        "loopback TCP", tcp, ">= 0.35");
    table.add("ByteStream upload " + size + " via scheduler", "MiB/s", micro.figure("rex upload"),
        "one gRPC hop, no storage", floorUp, "");
    table.add("ByteStream download " + size + " via scheduler", "MiB/s", micro.figure("rex download"),
        "one gRPC hop, no storage", floorDown, "");
    table.add("ByteStream upload " + size, "MiB/s", micro.figure("rex upload"), "reference",
        micro.figure("reference upload"), ">= 1.00");
    table.add("ByteStream download " + size, "MiB/s", micro.figure("rex download"), "reference",
        micro.figure("reference download"), ">= 1.00");
    table.add("BatchUpdateBlobs, 10,000 small blobs", "blobs/s", micro.figure("rex batch update"), "reference",
        micro.figure("reference batch update"), ">= 1.00");
    table.add("FindMissingBlobs, 10,000 digests", "ms", micro.figure("rex find missing"), "reference",
        micro.figure("reference find missing"), "<= 1.00");
    table.add("GetActionResult p50, 64 callers", "ms", micro.figure("rex action cache p50"),
        "GetCapabilities p50, rex", micro.figure("rex capabilities p50"), "<= 1.30");
    table.add("GetActionResult p50, 64 callers", "ms", micro.figure("rex action cache p50"), "reference",
        micro.figure("reference action cache p50"), "<= 1.00");
    table.add("GetActionResult p99, 64 callers", "ms", micro.figure("rex action cache p99"), "reference",
        micro.figure("reference action cache p99"), "<= 1.00");
    table.add("no-op Execute, sandbox on (default)", "actions/s", micro.figure("rex sandbox execute rate"),
        "parallel spawns", spawns, ">= 0.35");
    table.add("no-op Execute, sandbox off", "actions/s", micro.figure("rex no sandbox execute rate"),
        "parallel spawns", spawns, "");
    table.add("no-op Execute, reference (no sandbox)", "actions/s", micro.figure("reference execute rate"),
        "parallel spawns", spawns, "");
    table.add("no-op Execute, sandbox on", "actions/s", micro.figure("rex sandbox execute rate"), "reference",
        micro.figure("reference execute rate"), ">= 1.00");
    table.add("Execute p50 one at a time, sandbox on", "ms", micro.figure("rex sandbox execute p50"), "reference",
        micro.figure("reference execute p50"), "<= 5 ms");
    table.add("Execute p99 one at a time, sandbox on", "ms", micro.figure("rex sandbox execute p99"), "reference",
        micro.figure("reference execute p99"), "");
    table.add("Execute p50 one at a time, sandbox off", "ms", micro.figure("rex no sandbox execute p50"), "reference",
        micro.figure("reference execute p50"), "");
  }
}
