package build.rex.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.rex.storage.Digests;
import build.rex.storage.remote.GrpcBlobStore;
import com.google.longrunning.Operation;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker process killed with SIGKILL in the middle of an action: the scheduler notices, the
 * action runs again on another worker, and the client gets its result. A storage-only worker
 * (no executors) is part of the cluster too, and with two copies of every blob nothing the
 * action needs is lost with the killed worker.
 */
class WorkerKillTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  @TempDir Path scratch;
  private final List<Process> processes = new ArrayList<>();

  @AfterEach
  void stopAll() throws Exception {
    for (Process process : processes) {
      process.destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }

  private Process start(String jar, String name, String yaml) throws Exception {
    Path dir = Files.createDirectories(scratch.resolve(name));
    Path config = Files.writeString(dir.resolve("config.yaml"), yaml);
    Process process = new ProcessBuilder("java", "-jar", RexLocal.REPO.resolve(jar).toString(), "--config", config.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("log").toFile()).start();
    processes.add(process);
    return process;
  }

  private static String get(int port, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void anActionOnAWorkerKilledWithSigkillRunsOnAnotherWorker() throws Exception {
    int base = RexLocal.freePortBlock();
    String worker = "rex-worker.jar";
    start("worker-image/target/" + worker, "storage", """
        grpc: {host: 127.0.0.1, port: %d}
        admin: {host: 127.0.0.1, port: %d}
        storage: {path: %s, fsync: false}
        cluster: {workerId: storage, tls: {mode: plaintext}, schedulers: {addresses: ["127.0.0.1:%d"]}}
        execution: {enabled: false}
        """.formatted(base + 10, base + 11, scratch.resolve("storage/data"), base + 2));
    Map<String, Process> executing = new java.util.LinkedHashMap<>();
    for (int i = 0; i < 2; i++) {
      String id = "exec-" + i;
      executing.put(id, start("worker-image/target/" + worker, id, """
          grpc: {host: 127.0.0.1, port: %d}
          admin: {host: 127.0.0.1, port: %d}
          storage: {path: %s, fsync: false}
          cluster: {workerId: %s, tls: {mode: plaintext}, schedulers: {addresses: ["127.0.0.1:%d"]}}
          execution:
            executors: [{count: 1, properties: {OSFamily: linux}}]
          """.formatted(base + 12 + 2 * i, base + 13 + 2 * i, scratch.resolve(id + "/data"), id, base + 2)));
    }
    start("scheduler-image/target/rex-scheduler.jar", "scheduler", """
        grpc: {host: 127.0.0.1, port: %d}
        admin: {host: 127.0.0.1, port: %d}
        tls: {mode: plaintext}
        auth: {anonymous: [read, write, execute]}
        cluster:
          grpc: {host: 127.0.0.1, port: %d}
          tls: {mode: plaintext}
          schedulers: {addresses: ["127.0.0.1:%<d"]}
        execution: {workerLostAfterSeconds: 5}
        """.formatted(base, base + 1, base + 2));
    Await.until("two executors to connect", 60, () -> get(base + 1, "/metrics").contains("rex_executors_connected 2.0"));

    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", base).usePlaintext().build();
    try {
      GrpcBlobStore cas = new GrpcBlobStore(channel, "scheduler");
      ByteString command = Command.newBuilder().addArguments("/bin/sh").addArguments("-c")
          .addArguments("sleep 3; echo survived").build().toByteString();
      ByteString root = Directory.getDefaultInstance().toByteString();
      Action action = Action.newBuilder().setCommandDigest(Digests.of(command)).setInputRootDigest(Digests.of(root)).build();
      cas.putBatch(Map.of(Digests.of(command), command, Digests.of(root), root, Digests.of(action), action.toByteString()));

      Iterator<Operation> operation = ExecutionGrpc.newBlockingStub(channel)
          .execute(ExecuteRequest.newBuilder().setActionDigest(Digests.of(action)).build());
      operation.next();
      String[] busy = new String[1];
      Await.until("the action to start", 60, () -> {
        for (Map.Entry<String, Process> entry : executing.entrySet()) {
          if (entry.getValue().toHandle().descendants()
              .anyMatch(p -> p.info().command().orElse("").endsWith("/sleep"))) {
            busy[0] = entry.getKey();
            return true;
          }
        }
        return false;
      });
      List<ProcessHandle> actionProcesses = executing.get(busy[0]).toHandle().descendants().toList();
      executing.get(busy[0]).destroyForcibly(); // SIGKILL, mid-action

      Operation done = null;
      while (operation.hasNext()) {
        done = operation.next();
      }
      ExecuteResponse response = done.getResponse().unpack(ExecuteResponse.class);
      assertEquals(0, response.getStatus().getCode(), response.getStatus().getMessage());
      String other = busy[0].equals("exec-0") ? "exec-1" : "exec-0";
      assertEquals(other, response.getResult().getExecutionMetadata().getWorker());
      Digest stdout = response.getResult().getStdoutDigest();
      assertEquals("survived\n", cas.get(stdout).toStringUtf8());
      Await.until("the killed worker's action processes to die", 60, () -> actionProcesses.stream().noneMatch(ProcessHandle::isAlive));
      assertFalse(actionProcesses.stream().anyMatch(ProcessHandle::isAlive), "killed with their worker");
      assertTrue(processes.get(0).isAlive(), "storage kept running");
    } finally {
      channel.shutdownNow();
    }
  }
}
