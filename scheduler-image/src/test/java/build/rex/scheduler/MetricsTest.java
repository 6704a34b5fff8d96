package build.rex.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.rex.storage.Digests;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics docs/metrics.md lists, by name and value after a known workload (two executions,
 * one failing, one served from the cache, one Action Cache hit and one miss), and the Grafana
 * dashboard of the Helm chart, which must refer only to series that exist then.
 */
class MetricsTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final String PLATFORM = "platform=\"OSFamily=linux,cpu=2,pool=default\"";
  private static final Path DASHBOARD = Path.of("..", "helm", "rex-operator", "dashboards", "rex.json");
  @TempDir static Path dataDir;
  private static LocalStack stack;

  @BeforeAll
  static void knownWorkload() throws Exception {
    stack = new LocalStack(dataDir, 64 << 20, 1, 1, 1);
    ReapiClient client = new ReapiClient(stack.channel);
    Action passing = client.shellAction("echo made > out.txt", "out.txt");
    ReapiClient.response(ReapiClient.last(client.execute(passing, 0, true)));
    ReapiClient.response(ReapiClient.last(client.execute(client.shellAction("exit 3"), 0, true)));
    ReapiClient.response(ReapiClient.last(client.execute(passing, 0, false))); // answered from the Action Cache
    var actionCache = ActionCacheGrpc.newBlockingStub(stack.channel);
    actionCache.getActionResult(GetActionResultRequest.newBuilder().setActionDigest(Digests.of(passing)).build());
    try {
      actionCache.getActionResult(GetActionResultRequest.newBuilder()
          .setActionDigest(Digests.of(client.shellAction("never run"))).build());
    } catch (StatusRuntimeException expected) {
      // NOT_FOUND: the miss
    }
    System.gc(); // so the GC pause timers exist (they appear with the first collection)
  }

  @AfterAll
  static void stop() throws Exception {
    stack.close();
  }

  private static Map<String, Double> scrape(int port) throws Exception {
    String text = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    Map<String, Double> series = new HashMap<>();
    Matcher line = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{[^}]*\\})?) ([0-9.eE+-]+|NaN)$").matcher(text);
    while (line.find()) {
      series.put(line.group(1), Double.parseDouble(line.group(2)));
    }
    return series;
  }

  private static double value(Map<String, Double> scrape, String name, String... labels) {
    // Micrometer writes labels in name order; the caller names them so.
    String key = labels.length == 0 ? name : name + "{" + String.join(",", labels) + "}";
    Double value = scrape.get(key);
    assertTrue(value != null, () -> "no series " + key + " among " + new TreeSet<>(scrape.keySet()));
    return value;
  }

  @Test
  void theSchedulerCountsActionsByOutcomeAndTimesThemByPlatform() throws Exception {
    Map<String, Double> scheduler = scrape(stack.scheduler.adminPort());
    assertEquals(1, value(scheduler, "rex_execution_actions_total", "outcome=\"success\""));
    assertEquals(1, value(scheduler, "rex_execution_actions_total", "outcome=\"exit_nonzero\""));
    assertEquals(1, value(scheduler, "rex_execution_actions_total", "outcome=\"cached\""));
    assertEquals(0, value(scheduler, "rex_execution_actions_total", "outcome=\"timeout\""));
    assertEquals(2, value(scheduler, "rex_execution_queue_wait_seconds_count", PLATFORM));
    assertEquals(2, value(scheduler, "rex_execution_duration_seconds_count", PLATFORM));
    assertTrue(value(scheduler, "rex_execution_duration_seconds_sum", PLATFORM) > 0);
    assertEquals(1, value(scheduler, "rex_action_cache_requests_total", "result=\"hit\""));
    assertEquals(1, value(scheduler, "rex_action_cache_requests_total", "result=\"miss\""));
    // A call is counted when the server's side of its stream has closed, which may come just after
    // the client has its answer.
    String execute = "method=\"build.bazel.remote.execution.v2.Execution/Execute\"";
    String lookup = "method=\"build.bazel.remote.execution.v2.ActionCache/GetActionResult\"";
    Await.holds("the calls are counted", () -> {
      Map<String, Double> now = scrape(stack.scheduler.adminPort());
      return now.getOrDefault("rex_grpc_server_duration_seconds_count{code=\"OK\"," + execute + "}", 0.0) >= 3
          && now.getOrDefault("rex_grpc_server_requests_total{code=\"NOT_FOUND\"," + lookup + "}", 0.0) >= 1;
    });
    scheduler = scrape(stack.scheduler.adminPort());
    assertEquals(3, value(scheduler, "rex_grpc_server_duration_seconds_count", "code=\"OK\"", execute));
    assertEquals(1, value(scheduler, "rex_grpc_server_requests_total", "code=\"NOT_FOUND\"", lookup));
    assertEquals(1, value(scheduler, "rex_workers_connected"));
    assertEquals(1, value(scheduler, "rex_executors_connected"));
    assertEquals(0, value(scheduler, "rex_executors_running"));
    assertEquals(0, value(scheduler, "rex_execution_queued"));
    assertTrue(value(scheduler, "rex_peer_sent_bytes_total", "peer=\"worker\"") > 0, "blobs written to the worker");
    assertTrue(value(scheduler, "rex_cas_memory_hits_total") > 0, "Execute read the Action it was just sent from memory");
    assertTrue(value(scheduler, "rex_cas_memory_bytes") > 0);
    value(scheduler, "rex_cas_memory_misses_total");
    assertTrue(value(scheduler, "rex_cas_existence_misses_total") > 0, "the first check of the result asked the worker");
    assertTrue(value(scheduler, "rex_cas_existence_hits_total") > 0,
        "the GetActionResult right after the cached Execute found its outputs confirmed");
    assertTrue(value(scheduler, "jvm_threads_live_threads") > 0);
  }

  @Test
  void theWorkerShowsItsStorageExecutorsAndTrafficToTheScheduler() throws Exception {
    Map<String, Double> worker = scrape(stack.worker.adminPort());
    assertEquals(1, value(worker, "rex_executors"));
    assertEquals(0, value(worker, "rex_executors_busy"));
    assertEquals(64 << 20, value(worker, "rex_cas_capacity_bytes"));
    assertTrue(value(worker, "rex_cas_blobs") >= 6, "actions, commands, input, outputs");
    assertTrue(value(worker, "rex_cas_size_bytes") > 0);
    assertEquals(0, value(worker, "rex_cas_under_replicated_blobs"));
    assertTrue(value(worker, "rex_peer_sent_bytes_total", "peer=\"scheduler\"") > 0, "its stream to the scheduler");
  }

  @Test
  void theDashboardRefersOnlyToSeriesThatExist() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
    Set<String> referred = new TreeSet<>();
    Pattern name = Pattern.compile("\\b((?:rex|jvm)_[a-z_]+)\\b");
    for (JsonNode panel : dashboard.get("panels")) {
      for (JsonNode target : panel.get("targets")) {
        Matcher m = name.matcher(target.get("expr").asText());
        while (m.find()) {
          referred.add(m.group(1));
        }
      }
    }
    assertTrue(referred.size() > 20, "the dashboard shows " + referred);
    Set<String> missing = new TreeSet<>(referred);
    try {
      Await.holds("every series the dashboard refers to exists on a scheduler or a worker", () -> {
        for (int port : new int[] {stack.scheduler.adminPort(), stack.worker.adminPort()}) {
          scrape(port).keySet().forEach(series -> missing.remove(series.replaceAll("\\{.*", "")));
        }
        return missing.isEmpty();
      });
    } catch (AssertionError e) {
      throw new AssertionError("the dashboard refers to series that do not exist: " + missing, e);
    }
  }
}
