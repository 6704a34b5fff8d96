package build.rex.bench.build;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Debian's Bazel on the generated workspace, offline, with its own output base. */
final class BazelClient {
  private static final Pattern PROCESSES = Pattern.compile("(?m)^INFO: \\d+ processes?: (.*)\\.$");
  private final Path workspace;
  private final Path outputBase;
  private final Path stubs;
  private final int jobs;

  BazelClient(Path workspace, Path outputBase, Path stubs, int jobs) {
    this.workspace = workspace;
    this.outputBase = outputBase;
    this.stubs = stubs;
    this.jobs = jobs;
  }

  /** One timed build: its wall time and Bazel's count of spawns by kind ("remote", "remote cache hit"). */
  record Build(double seconds, Map<String, Integer> spawns) {
    int count(String kind) {
      return spawns.getOrDefault(kind, 0);
    }
  }

  /**
   * Starts this Bazel's server and loads the workspace, so that the first timed build measures
   * the remote server's first build, not Bazel's own start.
   */
  void warmUp() throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of("build", "--nobuild"));
    args.addAll(buildFlags());
    run(args);
  }

  private List<String> buildFlags() {
    return List.of("//...", "--jobs=" + jobs,
        "--override_repository=rules_cc=" + stubs.resolve("rules_cc"),
        "--override_repository=remote_coverage_tools=" + stubs.resolve("remote_coverage_tools"),
        "--override_repository=rules_java=/usr/share/bazel/rules/java",
        "--curses=no", "--color=no", "--noshow_progress");
  }

  /** {@code bazel clean}, then builds and tests everything, timed; {@code remoteFlag} null builds locally. */
  Build cleanBuild(String remoteFlag) throws IOException, InterruptedException {
    run(List.of("clean"));
    List<String> args = new ArrayList<>(List.of("test"));
    args.addAll(buildFlags());
    if (remoteFlag != null) {
      args.addAll(List.of(remoteFlag, "--remote_timeout=120"));
    }
    long start = System.nanoTime();
    String output = run(args);
    return new Build((System.nanoTime() - start) / 1e9, spawns(output));
  }

  void shutdown() throws IOException, InterruptedException {
    run(List.of("shutdown"));
  }

  private String run(List<String> args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("bazel", "--output_base=" + outputBase, "--max_idle_secs=600"));
    command.addAll(args);
    Path log = Files.createTempFile("bazel-bench", ".log");
    try {
      Process bazel = new ProcessBuilder(command).directory(workspace.toFile()).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start();
      if (!bazel.waitFor(30, TimeUnit.MINUTES)) {
        bazel.destroyForcibly();
        throw new IOException("bazel " + String.join(" ", args) + " took longer than 30 minutes");
      }
      String output = Files.readString(log, StandardCharsets.UTF_8);
      if (bazel.exitValue() != 0) {
        throw new IOException("bazel " + String.join(" ", args) + " failed (exit " + bazel.exitValue() + "):\n" + output);
      }
      return output;
    } finally {
      Files.deleteIfExists(log);
    }
  }

  /** Bazel's "N processes: 3 remote cache hit, 2 internal." line, by kind. */
  private static Map<String, Integer> spawns(String output) {
    Matcher m = PROCESSES.matcher(output);
    String last = null;
    while (m.find()) {
      last = m.group(1);
    }
    Map<String, Integer> counts = new HashMap<>();
    if (last != null) {
      for (String part : last.split(", ")) {
        int space = part.indexOf(' ');
        counts.put(part.substring(space + 1), Integer.parseInt(part.substring(0, space)));
      }
    }
    return counts;
  }
}
