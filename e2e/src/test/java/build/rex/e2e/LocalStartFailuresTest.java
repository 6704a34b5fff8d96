package build.rex.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/rex local} says at once which process cannot start, and why. */
class LocalStartFailuresTest {
  @TempDir Path scratch;

  /** The launcher's exit code and output, once it has given up (it must, within 60 s). */
  private static String failedStart(RexLocal cluster) throws Exception {
    assertTrue(cluster.launcher.waitFor(60, TimeUnit.SECONDS), "rex local gave up at once:\n" + cluster.output);
    assertEquals(1, cluster.launcher.exitValue(), cluster.output.toString());
    return cluster.output.toString();
  }

  @Test
  void aTakenPortIsNamedWithWhoseItWouldHaveBeenBeforeAnythingStarts() throws Exception {
    int port = RexLocal.freePortBlock();
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress("127.0.0.1", port + 10));
      try (RexLocal cluster = RexLocal.startOn(port, scratch.resolve("data"))) {
        String output = failedStart(cluster);
        assertTrue(output.contains("port " + (port + 10) + " (worker-0's gRPC port) is in use"), output);
        assertTrue(cluster.servers().isEmpty(), "nothing was started");
      }
    }
  }

  @Test
  void aProcessThatExitsWhileStartingIsNamedWithItsLog() throws Exception {
    Path data = scratch.resolve("data");
    Files.createDirectories(data.resolve("worker-0"));
    Files.writeString(data.resolve("worker-0/cas"), "a file where the worker's CAS folder belongs");
    long started = System.nanoTime();
    try (RexLocal cluster = RexLocal.startOn(RexLocal.freePortBlock(), data)) {
      String output = failedStart(cluster);
      assertTrue(output.contains("rex local: worker-0 exited while starting"), output);
      assertTrue(output.contains("worker-0/worker.log"), "it points at the log: " + output);
      assertTrue(!output.contains("scheduler-0 did not become ready"), "the scheduler is not blamed: " + output);
      assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(60), "without waiting for a timeout");
    }
  }
}
