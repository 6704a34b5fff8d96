package build.rex.bench.build;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * rex as a user starts it, {@code bin/rex local}: a scheduler and a worker JVM on loopback. The
 * launcher jar is run directly (bench/run has built it), so that nothing is rebuilt mid-run.
 */
final class RexLocalServer implements BuildServer {
  private final String name;
  private final int port;
  private final Process launcher;

  /** {@code executors} 0 keeps the default (one per core). */
  RexLocalServer(String name, Path repo, Path dataDir, int port, int executors) throws IOException, InterruptedException {
    this.name = name;
    this.port = port;
    List<String> command = new ArrayList<>(List.of(BuildServer.java(), "-Drex.home=" + repo, "-jar", repo.resolve("launcher/target/rex-launcher.jar").toString(),
        "local",
        "--port", Integer.toString(port), "--data-dir", dataDir.toString()));
    if (executors > 0) {
      command.addAll(List.of("--executors", Integer.toString(executors)));
    }
    java.nio.file.Files.createDirectories(dataDir);
    launcher = BuildServer.start(command, dataDir.resolve("launcher.log"), line -> line.startsWith("bazel flags:"), 300);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String remoteFlag() {
    return "--remote_executor=grpc://127.0.0.1:" + port;
  }

  @Override
  public Map<String, ProcessHandle> processes() {
    Map<String, ProcessHandle> processes = new LinkedHashMap<>();
    for (ProcessHandle child : launcher.descendants().toList()) {
      String commandLine = child.info().commandLine().orElse("");
      for (String role : List.of("scheduler", "worker")) {
        if (commandLine.contains("rex-" + role + ".jar")) {
          processes.put(role, child);
        }
      }
    }
    return processes;
  }

  @Override
  public void close() throws Exception {
    BuildServer.stop(launcher);
  }
}
