package build.rex.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A local cluster started the way a user starts it: {@code bin/rex local}. */
final class RexLocal implements AutoCloseable {
  static final Path REPO = Path.of("").toAbsolutePath().getParent();
  final int port;
  final Path dataDir;
  final Process launcher;
  final StringBuffer output = new StringBuffer();
  private final CompletableFuture<String> readyLine = new CompletableFuture<>();

  private RexLocal(int port, Path dataDir, java.util.Map<String, String> environment, String... extraFlags)
      throws IOException {
    this.port = port;
    this.dataDir = dataDir;
    List<String> command = new java.util.ArrayList<>(List.of(REPO.resolve("bin/rex").toString(), "local",
        "--port", Integer.toString(port), "--data-dir", dataDir.toString()));
    command.addAll(List.of(extraFlags));
    ProcessBuilder builder = new ProcessBuilder(command).directory(REPO.toFile()).redirectErrorStream(true);
    builder.environment().putAll(environment);
    launcher = builder.start();
    Thread reader = new Thread(this::readOutput, "rex-local-output");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts a cluster and waits for its ready line. */
  static RexLocal start(Path dataDir, String... extraFlags) throws Exception {
    return start(dataDir, java.util.Map.of(), extraFlags);
  }

  /** Starts a cluster with extra environment variables for the launcher and waits for its ready line. */
  static RexLocal start(Path dataDir, java.util.Map<String, String> environment, String... extraFlags) throws Exception {
    RexLocal cluster = new RexLocal(freePortBlock(), dataDir, environment, extraFlags);
    cluster.awaitReady();
    return cluster;
  }

  static RexLocal startOn(int port, Path dataDir) throws IOException {
    return new RexLocal(port, dataDir, java.util.Map.of());
  }

  private void readOutput() {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(launcher.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        output.append(line).append('\n');
        // The flags line follows the ready line: wait for both, as a user reads both.
        if (line.startsWith("bazel flags:")) {
          readyLine.complete(line);
        }
      }
    } catch (IOException e) {
      // the launcher ended
    }
    readyLine.completeExceptionally(new IllegalStateException("bin/rex local ended before it was ready:\n" + output));
  }

  String awaitReady() throws Exception {
    return readyLine.get(300, TimeUnit.SECONDS);
  }

  String target() {
    return "grpc://127.0.0.1:" + port;
  }

  /** The certificates and token the launcher made in the data folder. */
  build.rex.server.security.LocalCertificates certificates() throws IOException {
    return build.rex.server.security.LocalCertificates.inFolder(dataDir.resolve("tls"));
  }

  /** A channel to a worker's port with the cluster's internal certificate, as its peers connect. */
  io.grpc.ManagedChannel internalChannel(int port) throws IOException {
    return build.rex.server.PeerChannels.openInternal("127.0.0.1:" + port, certificates().internalTls());
  }

  /** The scheduler and worker processes the launcher started. */
  List<ProcessHandle> servers() {
    return launcher.toHandle().descendants().toList();
  }

  /** SIGTERM, as Ctrl-C or Kubernetes would send it; returns the launcher's exit code. */
  int stop() throws InterruptedException {
    launcher.destroy();
    if (!launcher.waitFor(60, TimeUnit.SECONDS)) {
      launcher.destroyForcibly();
      throw new IllegalStateException("bin/rex local did not stop within 60 s of SIGTERM");
    }
    return launcher.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (launcher.isAlive()) {
      stop();
    }
  }

  /** The admin port of scheduler {@code i} when the cluster runs several schedulers. */
  int schedulerAdminPort(int i) {
    return port + 3 + 2 * i;
  }

  int workerGrpcPort(int i) {
    return port + 10 + 2 * i;
  }

  int workerAdminPort(int i) {
    return port + 11 + 2 * i;
  }

  /** The process of one server, found by its config file (e.g. "worker-1"). */
  ProcessHandle server(String name) {
    return servers().stream()
        .filter(p -> p.info().arguments().map(args -> String.join(" ", args).contains("/" + name + "/")).orElse(false))
        .findFirst().orElseThrow(() -> new AssertionError("no process for " + name));
  }

  private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newHttpClient();

  /** GET or POST on a local admin port. */
  /** A call to one of this cluster's admin ports, with the admin token rex local made. */
  String admin(String method, int port, String path) throws IOException, InterruptedException {
    return HTTP.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
        .header("Authorization", "Bearer " + adminToken())
        .method(method, java.net.http.HttpRequest.BodyPublishers.noBody()).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
  }

  /** The token of the admin ports (web UI, admin API), as rex local printed it. */
  String adminToken() throws IOException {
    return java.nio.file.Files.readString(dataDir.resolve("tls").resolve("admin-token")).strip();
  }

  private static String get(int port, String path) throws IOException, InterruptedException {
    return HTTP.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
  }

  /** The sum of a Prometheus metric's samples whose line contains {@code filter}. */
  static double metric(int adminPort, String name, String filter) throws IOException, InterruptedException {
    double sum = 0;
    for (String line : get(adminPort, "/metrics").split("\n")) {
      if ((line.startsWith(name + " ") || line.startsWith(name + "{")) && line.contains(filter)) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  /** A port whose neighbours (the admin, worker and internal ports follow it) are free too. */
  static int freePortBlock() throws IOException {
    return build.rex.server.FreePorts.block(91);
  }
}
