package build.rex.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web UI in headless Chromium (Debian's, driven by playwright-core: e2e/ui/ui-check.mjs)
 * against {@code bin/rex local} during and after a real Bazel build: the pages load without
 * console errors, show the worker and the build's actions, the failing test's page shows its
 * stderr, an output downloads with the right bytes, and drain and undrain from the UI work.
 * Screenshots go to target/ui-screenshots (docs/ holds copies).
 */
class WebUiBrowserTest {
  private static final Path UI = Path.of("ui").toAbsolutePath();
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  @TempDir Path scratch;

  @Test
  void theUiShowsABuildItsFailureAndItsOutputsAndDrainsAWorker() throws Exception {
    Bazel.assumeInstalled();
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && onPath("node") && onPath("npm"),
        "SKIPPED: Debian's chromium and nodejs/npm are not installed (.ci/run installs them)");
    installPlaywright();
    Bazel bazel = new Bazel(scratch.resolve("bazel"));
    try (RexLocal cluster = RexLocal.start(scratch.resolve("rex-data"))) {
      Matcher ui = Pattern.compile("web UI: (http://127\\.0\\.0\\.1:\\d+)/ui/login#token=([0-9a-f]+)").matcher(cluster.output);
      assertTrue(ui.find(), "rex local prints where the UI is:\n" + cluster.output);
      assertEquals(cluster.adminToken(), ui.group(2));
      Path done = scratch.resolve("build-done");
      Path screenshots = Path.of("target", "ui-screenshots").toAbsolutePath();
      Files.createDirectories(screenshots);
      Path config = scratch.resolve("ui-check.json");
      Files.writeString(config, new ObjectMapper().writeValueAsString(Map.of("base", ui.group(1), "token", ui.group(2),
          "screenshots", screenshots.toString(), "doneFile", done.toString(), "worker", "worker-0",
          "outputText", "hello from rex")));
      // Files, not this JVM's own streams: surefire talks to its fork over them.
      Path steps = scratch.resolve("ui-check.log");
      Process check = new ProcessBuilder("node", UI.resolve("ui-check.mjs").toString(), config.toString())
          .directory(UI.toFile()).redirectError(steps.toFile()).start();
      List<String> args = new java.util.ArrayList<>(List.of("test", "//...", "//exec:ui_failing_test", "--keep_going"));
      args.addAll(Bazel.flags("--remote_executor=" + cluster.target()));
      Bazel.Run build = bazel.start(args.toArray(String[]::new)).await();
      Files.writeString(done, "done");
      assertEquals(3, build.exitCode(), "only the failing test fails:\n" + build.output());
      assertTrue(build.output().contains("//exec:ui_failing_test") && build.output().contains("FAILED"), build.output());

      String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(check.waitFor(300, TimeUnit.SECONDS), "the browser check ended");
      assertEquals(0, check.exitValue(), "the browser check failed:\n" + Files.readString(steps) + out);
      JsonNode seen = new ObjectMapper().readTree(out.lines().reduce((first, last) -> last).orElseThrow());
      assertEquals("[]", seen.get("consoleErrors").toString(), "no console errors on any page");
      assertTrue(seen.get("actionsWhileBuilding").asInt() > 0 && seen.get("buildStillRunning").asBoolean(),
          "the build's actions showed while it ran: " + seen);
      assertTrue(seen.path("buildInFlight").asText().contains("bazel"), "the build was among the builds in flight: " + seen);
      assertTrue(seen.get("actionsAfterBuild").asInt() >= 10, seen.toString());
      assertTrue(seen.get("workerRow").asText().contains("worker-0") && seen.get("workerRow").asText().contains("up"),
          seen.get("workerRow").asText());
      assertEquals("exit_nonzero", seen.get("failingOutcome").asText());
      assertTrue((seen.get("failingStderr").asText() + seen.get("failingStdout").asText()).contains("the widget is broken"),
          "the failing test's page shows what it wrote to stderr: " + seen);
      assertTrue(seen.get("inputTreeEntries").asInt() > 0, "the input root opens");
      assertEquals("hello from rex\n", seen.get("downloaded").asText(), "the output's bytes");
      assertEquals("hello.txt", seen.get("downloadName").asText());
      assertTrue(List.of("draining", "drained").contains(seen.get("stateAfterDrain").asText()), seen.toString());
      assertEquals("up", seen.get("stateAfterUndrain").asText());
      assertTrue(seen.get("phoneWidthScrolls").asBoolean(), "the overview fits a phone's width (tables scroll inside)");
      String log = Files.readString(cluster.dataDir.resolve("scheduler-0/scheduler.log"));
      assertTrue(log.contains("draining worker worker-0 on request") && log.contains("undraining worker worker-0 on request"),
          "the scheduler was asked to drain and undrain by the UI");
      assertTrue(cluster.admin("GET", cluster.port + 1, "/workers").contains("\"draining\": false"), "undrained");
    }
  }

  private static boolean onPath(String command) {
    try {
      return new ProcessBuilder(command, "--version").redirectErrorStream(true).start().waitFor() == 0;
    } catch (java.io.IOException | InterruptedException e) {
      return false;
    }
  }

  /** playwright-core at the version package-lock.json pins (npm ci; a no-op once installed). */
  private static void installPlaywright() throws Exception {
    if (Files.isDirectory(UI.resolve("node_modules/playwright-core"))) {
      return;
    }
    Path log = Files.createTempFile("npm-ci", ".log");
    Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(UI.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
    assertTrue(npm.waitFor(300, TimeUnit.SECONDS) && npm.exitValue() == 0, "npm ci in e2e/ui:\n" + Files.readString(log));
  }
}
