package build.rex.e2e;

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
import java.util.stream.Stream;

/** Runs Debian's Bazel 4.2.3 on a copy of the offline test workspace. */
final class Bazel {
  static final Path SOURCES = Path.of("src/test/bazel").toAbsolutePath();
  static final Path DEBIAN_RULES_JAVA = Path.of("/usr/share/bazel/rules/java");
  private static final Pattern PROCESSES = Pattern.compile("(?m)^INFO: \\d+ processes?: (.*)\\.$");

  final Path workspace;
  private final Path outputBase;
  private final List<String> startupOptions = new ArrayList<>();

  Bazel(Path scratch) throws IOException {
    this.workspace = scratch.resolve("workspace");
    this.outputBase = scratch.resolve("output-base");
    copyTree(SOURCES.resolve("workspace"), workspace);
  }

  /**
   * Debian's Bazel is built without netty's JDK ALPN classes, so its TLS needs OpenSSL through
   * netty-tcnative (Debian's libnetty-tcnative-jni), which netty only loads as
   * libnetty_tcnative.so and which checks its own file name: a renamed copy, not a symlink.
   */
  static Path debianTcnative() {
    try (Stream<Path> found = Files.list(Path.of("/usr/lib")).map(dir -> dir.resolve("jni/libnetty-tcnative.so"))
        .filter(Files::isRegularFile)) {
      return found.findFirst().orElse(null);
    } catch (IOException e) {
      return null;
    }
  }

  /** Lets this Bazel speak TLS: see {@link #debianTcnative}. */
  Bazel withTls() throws IOException {
    Path dir = outputBase.resolveSibling("tcnative");
    Files.createDirectories(dir);
    Files.copy(debianTcnative(), dir.resolve("libnetty_tcnative.so"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    startupOptions.add("--host_jvm_args=-Djava.library.path=" + dir);
    return this;
  }

  /** Skips the calling test (saying why) where Debian's Bazel is missing. */
  static void assumeInstalled() {
    org.junit.jupiter.api.Assumptions.assumeTrue(installed(),
        "SKIPPED: Debian's bazel-bootstrap and bazel-rules-java are not installed (.ci/run installs them)");
  }

  static boolean installed() {
    try {
      return new ProcessBuilder("bazel", "--version").start().waitFor() == 0 && Files.isDirectory(DEBIAN_RULES_JAVA);
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  /** The result of one Bazel command. */
  record Run(int exitCode, String output) {
    /** Spawn counts by kind, from Bazel's "N processes: 3 remote cache hit, 2 internal." line. */
    Map<String, Integer> processes() {
      Matcher m = PROCESSES.matcher(output);
      Map<String, Integer> counts = new HashMap<>();
      String last = null;
      while (m.find()) {
        last = m.group(1);
      }
      if (last == null) {
        throw new AssertionError("no process summary in Bazel's output:\n" + output);
      }
      for (String part : last.split(", ")) {
        int space = part.indexOf(' ');
        counts.put(part.substring(space + 1), Integer.parseInt(part.substring(0, space)));
      }
      return counts;
    }
  }

  Run run(String... args) throws IOException, InterruptedException {
    return start(args).await();
  }

  /** {@code bazel <args> <offline flags> <remoteFlag>}, e.g. ("--remote_executor=grpc://...", "build", "//..."). */
  Run runAgainst(String remoteFlag, String... args) throws IOException, InterruptedException {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(flags(remoteFlag));
    return run(all.toArray(String[]::new));
  }

  /** A Bazel command running in the background. */
  record Running(Process process, Path log, String description) {
    Run await() throws IOException, InterruptedException {
      if (!process.waitFor(600, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError(description + " took longer than 10 minutes");
      }
      String output = Files.readString(log, StandardCharsets.UTF_8);
      Files.delete(log);
      return new Run(process.exitValue(), output);
    }
  }

  Running start(String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of("bazel", "--output_base=" + outputBase, "--max_idle_secs=120"));
    command.addAll(startupOptions);
    command.addAll(List.of(args));
    Path log = Files.createTempFile("bazel", ".log");
    Process process = new ProcessBuilder(command).directory(workspace.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    return new Running(process, log, "bazel " + String.join(" ", args));
  }

  /** Flags that keep the build offline and point it at a remote endpoint (or away from one). */
  static List<String> flags(String remoteFlag) {
    Path stubs = SOURCES.resolve("stubs");
    return List.of(
        "--override_repository=rules_cc=" + stubs.resolve("rules_cc"),
        "--override_repository=remote_coverage_tools=" + stubs.resolve("remote_coverage_tools"),
        "--override_repository=rules_java=" + DEBIAN_RULES_JAVA,
        remoteFlag,
        "--remote_timeout=60",
        "--curses=no", "--color=no", "--noshow_progress");
  }

  /** SHA-256 of every regular file under bazel-bin, by path. */
  Map<String, String> outputHashes() throws IOException {
    Path bin = workspace.resolve("bazel-bin").toRealPath();
    Map<String, String> hashes = new HashMap<>();
    try (Stream<Path> files = Files.walk(bin)) {
      for (Path file : files.filter(Files::isRegularFile).filter(f -> !f.toString().contains(".runfiles"))
          .filter(f -> !f.toString().contains("_objs")).toList()) {
        hashes.put(bin.relativize(file).toString(), sha256(file));
      }
    }
    return hashes;
  }

  private static String sha256(Path file) throws IOException {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  void shutdown() throws IOException, InterruptedException {
    run("shutdown");
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path source : paths.toList()) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }
}
