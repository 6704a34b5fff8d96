package build.rex.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Bazel builds of three different workspaces in turn against a worker whose CAS (24 MiB) is
 * smaller than their outputs together (3 x 16 MiB) but larger than each one's: every build passes
 * with the outputs of a local build, eviction makes room from the earlier builds, and a rebuild of
 * the first after a clean (some of its cached results' outputs gone by then) runs again instead of
 * failing.
 */
class SmallCasBazelTest {
  private static final String[] WORKSPACES = {"ws1", "ws2", "ws3"};
  @TempDir static Path scratch;
  private static final Map<String, Bazel> remote = new java.util.LinkedHashMap<>();
  private static Bazel local;

  /** 8 MiB, 8 MiB made from it, and a digest of both (which needs both as inputs at once). */
  private static void writePackage(Path dir, String salt) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("BUILD"), """
        genrule(name = "a", outs = ["a.bin"], cmd = "(echo %1$s; head -c 8388608 /dev/zero) | tr '\\\\0' x > $@")
        genrule(name = "b", srcs = [":a"], outs = ["b.bin"], cmd = "tr x y < $< > $@")
        genrule(name = "c", srcs = [":a", ":b"], outs = ["c.txt"],
                cmd = "cat $(location :a) $(location :b) | sha256sum > $@")
        """.formatted(salt));
  }

  @BeforeAll
  static void requireBazel() throws Exception {
    Bazel.assumeInstalled();
    local = new Bazel(scratch.resolve("local"));
    for (String name : WORKSPACES) {
      Bazel workspace = new Bazel(scratch.resolve(name));
      writePackage(workspace.workspace.resolve("big"), name);
      writePackage(local.workspace.resolve("big").resolve(name), name);
      remote.put(name, workspace);
    }
  }

  @AfterAll
  static void stopBazel() throws Exception {
    for (Bazel bazel : remote.values()) {
      bazel.shutdown();
    }
    if (local != null) {
      local.shutdown();
    }
  }

  /** Hashes of the outputs under {@code prefix}, by their path below it. */
  private static Map<String, String> outputsOf(Bazel bazel, String prefix) throws Exception {
    Map<String, String> outputs = new TreeMap<>();
    bazel.outputHashes().forEach((path, hash) -> {
      if (path.startsWith(prefix)) {
        outputs.put(path.substring(prefix.length()), hash);
      }
    });
    return outputs;
  }

  @Test
  void buildsLargerTogetherThanTheCasAllPass() throws Exception {
    Bazel.Run localBuild = local.runAgainst("--spawn_strategy=local", "build", "//big/...");
    assertEquals(0, localBuild.exitCode(), localBuild.output());
    try (RexLocal cluster = RexLocal.start(scratch.resolve("rex-data"), "--cas-size", "24Mi")) {
      String executor = "--remote_executor=" + cluster.target();
      for (String name : WORKSPACES) {
        Bazel workspace = remote.get(name);
        Bazel.Run build = workspace.runAgainst(executor, "build", "//big:all");
        assertEquals(0, build.exitCode(), name + ":\n" + build.output());
        assertTrue(build.processes().getOrDefault("remote", 0) >= 3, name + " ran remotely: " + build.processes());
        Map<String, String> outputs = outputsOf(workspace, "big/");
        assertEquals(3, outputs.size(), outputs.toString());
        assertEquals(outputsOf(local, "big/" + name + "/"), outputs, name + "'s outputs are those of a local build");
      }
      double evictions = RexLocal.metric(cluster.workerAdminPort(0), "rex_cas_evictions_total", "");
      assertTrue(evictions > 0, "the CAS had to make room: " + evictions + " evictions");

      Bazel first = remote.get("ws1");
      assertEquals(0, first.run("clean").exitCode());
      Bazel.Run again = first.runAgainst(executor, "build", "//big:all");
      assertEquals(0, again.exitCode(), "a result whose outputs were evicted is a miss, not a broken build:\n"
          + again.output());
      assertTrue(again.processes().getOrDefault("remote", 0) >= 1, "what was evicted was made again: " + again.processes());
      assertEquals(outputsOf(local, "big/ws1/"), outputsOf(first, "big/"));
    }
  }
}
