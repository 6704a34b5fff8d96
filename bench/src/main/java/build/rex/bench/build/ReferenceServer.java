package build.rex.bench.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Bazel's own RemoteWorker, the reference server: compiled here, at benchmark time, from Debian's
 * {@code bazel-bootstrap-source} against the server jar that Debian's Bazel runs on (nothing of
 * it is kept in rex's tree), and run as one process with a CAS on disk.
 */
public final class ReferenceServer implements BuildServer {
  static final String SOURCES_PACKAGE = "bazel-bootstrap-source";
  static final String JAR_PACKAGE = "bazel-bootstrap-data";
  private static final String WORKER_PACKAGE = "com/google/devtools/build/remote/worker/";

  private final int port;
  private final Process process;

  private ReferenceServer(Path classes, Path jar, Path dataDir, int port, int jobs) throws IOException, InterruptedException {
    this.port = port;
    Files.createDirectories(dataDir.resolve("work"));
    Files.createDirectories(dataDir.resolve("cas"));
    process = BuildServer.start(List.of(BuildServer.java(), "-cp", classes + ":" + jar,
        "com.google.devtools.build.remote.worker.RemoteWorker", "--listen_port=" + port,
        "--work_path=" + dataDir.resolve("work"), "--cas_path=" + dataDir.resolve("cas"), "--jobs=" + jobs),
        dataDir.resolve("remote-worker.log"), line -> line.contains("Not starting HTTP cache server"), 120);
  }

  /** Compiles RemoteWorker into {@code classes} once; every start after that reuses it. */
  public static Compiled compile(Path classes) throws IOException, InterruptedException {
    Path jar = installed(JAR_PACKAGE, "/A-server.jar");
    Path anySource = installed(SOURCES_PACKAGE, "/" + WORKER_PACKAGE + "RemoteWorker.java");
    Path sourceDir = anySource.getParent();
    List<String> command = new ArrayList<>(List.of("javac", "-nowarn", "-proc:none", "-d", classes.toString(),
        "-cp", jar.toString()));
    try (Stream<Path> sources = Files.walk(sourceDir)) {
      sources.filter(p -> p.toString().endsWith(".java")).forEach(p -> command.add(p.toString()));
    }
    Process javac = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(javac.getInputStream().readAllBytes());
    if (javac.waitFor() != 0) {
      throw new IOException("compiling RemoteWorker failed:\n" + output);
    }
    return new Compiled(classes, jar);
  }

  /** RemoteWorker's classes and the jar they run against. */
  public record Compiled(Path classes, Path jar) {
    public BuildServer start(Path dataDir, int port, int jobs) throws IOException, InterruptedException {
      return new ReferenceServer(classes, jar, dataDir, port, jobs);
    }

    /** The reference server on {@code port + 1}, reached through a {@link PassThroughProxy} on {@code port}. */
    public BuildServer startBehindProxy(Path dataDir, int port, int jobs) throws IOException, InterruptedException {
      ReferenceServer reference = new ReferenceServer(classes, jar, dataDir, port + 1, jobs);
      try {
        return new Proxied(reference, port, dataDir);
      } catch (IOException | InterruptedException | RuntimeException e) {
        BuildServer.stop(reference.process);
        throw e;
      }
    }
  }

  /** The reference server behind a second hop that does nothing but forward. */
  private static final class Proxied implements BuildServer {
    private final ReferenceServer reference;
    private final int port;
    private final Process proxy;

    Proxied(ReferenceServer reference, int port, Path dataDir) throws IOException, InterruptedException {
      this.reference = reference;
      this.port = port;
      // The JIT and collector bin/rex local gives its scheduler (launcher JvmRuntime): C1 alone
      // costs a proxy this short-lived far less CPU than tiered compilation up to C2.
      proxy = BuildServer.start(List.of(BuildServer.java(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss512k",
          "-cp", System.getProperty("java.class.path"),
          PassThroughProxy.class.getName(), Integer.toString(port), Integer.toString(reference.port)),
          dataDir.resolve("proxy.log"), line -> line.startsWith("pass-through proxy on"), 60);
    }

    @Override
    public String name() {
      return "reference behind a pass-through proxy";
    }

    @Override
    public String remoteFlag() {
      return executorFlag(port);
    }

    @Override
    public Map<String, ProcessHandle> processes() {
      return Map.of("server", reference.process.toHandle(), "proxy", proxy.toHandle());
    }

    @Override
    public void close() throws Exception {
      try {
        BuildServer.stop(proxy);
      } finally {
        reference.close();
      }
    }
  }

  /** The path of a file of an installed Debian package, found with {@code dpkg -L}. */
  private static Path installed(String debianPackage, String suffix) throws IOException, InterruptedException {
    Process dpkg = new ProcessBuilder("dpkg", "-L", debianPackage).redirectErrorStream(true).start();
    String listing = new String(dpkg.getInputStream().readAllBytes());
    if (dpkg.waitFor() != 0) {
      throw new IOException("Debian's " + debianPackage + " is not installed (apt-get install " + debianPackage + ")");
    }
    return listing.lines().filter(line -> line.endsWith(suffix)).findFirst().map(Path::of)
        .orElseThrow(() -> new IOException(debianPackage + " has no file ending in " + suffix));
  }

  @Override
  public String name() {
    return "reference (Bazel's RemoteWorker)";
  }

  @Override
  public String remoteFlag() {
    return executorFlag(port);
  }

  private static String executorFlag(int port) {
    return "--remote_executor=grpc://127.0.0.1:" + port;
  }

  @Override
  public Map<String, ProcessHandle> processes() {
    return Map.of("server", process.toHandle());
  }

  @Override
  public void close() throws Exception {
    BuildServer.stop(process);
  }
}
