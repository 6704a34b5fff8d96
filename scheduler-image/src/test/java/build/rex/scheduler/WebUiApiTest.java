package build.rex.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.RequestMetadata;
import build.bazel.remote.execution.v2.ToolDetails;
import build.rex.server.security.BearerTokenAuthenticator;
import build.rex.storage.Digests;
import build.rex.v1.ActionDetail;
import build.rex.v1.ActionList;
import build.rex.v1.ActionSummary;
import build.rex.v1.ClusterOverview;
import build.rex.v1.DirectoryListing;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler's web UI API (docs/ui.md) after a known workload: two actions of one Bazel
 * invocation, one that succeeds with an output and one that fails on stderr; and who may read
 * and change what on the admin port.
 */
class WebUiApiTest {
  private static final String TOKEN = "a-token-for-the-admin-port";
  private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
  @TempDir static Path dataDir;
  private static LocalStack stack;
  private static ExecuteResponse passed;
  private static ExecuteResponse failed;
  private static Action passing;
  private static Action failing;

  @BeforeAll
  static void start() throws Exception {
    Path tokens = dataDir.resolve("admin-tokens.yaml");
    Files.writeString(tokens, BearerTokenAuthenticator.render(List.of(
        new BearerTokenAuthenticator.Entry("ops", BearerTokenAuthenticator.sha256(TOKEN)))));
    stack = new LocalStack(dataDir.resolve("stack"), 64 << 20, 1, 1, 1,
        config -> config.admin.tokensFile = tokens.toString());
    ReapiClient client = new ReapiClient(stack.channel);
    RequestMetadata bazel = RequestMetadata.newBuilder().setToolInvocationId("invocation-1")
        .setToolDetails(ToolDetails.newBuilder().setToolName("bazel").setToolVersion("4.2.3"))
        .setTargetId("//pkg:test").setActionMnemonic("TestRunner").build();
    passing = client.shellAction("echo made > out.txt", "out.txt");
    failing = client.shellAction("echo it broke >&2; exit 3");
    passed = ReapiClient.response(ReapiClient.last(client.execute(passing, 0, true, bazel)));
    failed = ReapiClient.response(ReapiClient.last(client.execute(failing, 0, true, bazel)));
  }

  @AfterAll
  static void stop() throws Exception {
    stack.close();
  }

  private static HttpResponse<String> call(String method, String path, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.scheduler.adminPort() + path))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (headers.length > 0) {
      request.headers(headers);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static <T extends Message.Builder> T get(String path, T into) throws Exception {
    HttpResponse<String> response = call("GET", path, "Authorization", "Bearer " + TOKEN);
    assertEquals(200, response.statusCode(), path + ": " + response.body());
    JsonFormat.parser().usingTypeRegistry(build.rex.scheduler.ui.UiRoutes.TYPES_IN_ANY).merge(response.body(), into);
    return into;
  }

  @Test
  void withoutATokenOnlyTheProbesMetricsAndLoginAreOpen() throws Exception {
    assertEquals(401, call("GET", "/api/cluster").statusCode());
    assertEquals(401, call("GET", "/api/cluster", "Authorization", "Bearer wrong").statusCode());
    assertEquals(401, call("POST", "/api/workers/worker-0/drain").statusCode());
    assertEquals(401, call("GET", "/workers").statusCode(), "the admin API needs the same token");
    HttpResponse<String> page = call("GET", "/ui/?outcome=success");
    assertEquals(303, page.statusCode());
    assertEquals("/ui/login?next=%2Fui%2F%3Foutcome%3Dsuccess", page.headers().firstValue("Location").orElseThrow());
    assertEquals(200, call("GET", "/metrics").statusCode());
    assertEquals(200, call("GET", "/readyz").statusCode());
    assertEquals(200, call("GET", "/ui/login").statusCode());
    try { // the client port serves gRPC only: no page of the UI is there
      HttpResponse<String> onClientPort = HTTP.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + stack.scheduler.grpcPort() + "/ui/")).build(), HttpResponse.BodyHandlers.ofString());
      assertTrue(onClientPort.statusCode() != 200 && !onClientPort.body().contains("<html"), onClientPort.body());
    } catch (java.io.IOException refused) {
      // the gRPC server does not speak HTTP/1.1 at all: nothing served
    }

    HttpResponse<String> wrong = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.scheduler.adminPort()
        + "/ui/login?next=%2Fui%2F")).header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("token=wrong")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(303, wrong.statusCode());
    assertTrue(wrong.headers().firstValue("Location").orElseThrow().contains("failed=1"));
    assertTrue(wrong.headers().firstValue("Set-Cookie").isEmpty());
    HttpResponse<String> right = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stack.scheduler.adminPort()
        + "/ui/login?next=%2Fui%2Faction")).header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("token=" + TOKEN)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals("/ui/action", right.headers().firstValue("Location").orElseThrow());
    String cookie = right.headers().firstValue("Set-Cookie").orElseThrow();
    assertTrue(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), cookie);
    String session = cookie.substring(0, cookie.indexOf(';'));
    assertEquals(200, call("GET", "/api/cluster", "Cookie", session).statusCode(), "the cookie is the token");
    assertEquals(200, call("GET", "/ui/", "Cookie", session).statusCode());
  }

  @Test
  void theClusterShowsTheWorkerItsExecutorsAndStorage() throws Exception {
    ClusterOverview cluster = get("/api/cluster", ClusterOverview.newBuilder()).build();
    assertEquals(1, cluster.getWorkersCount());
    assertEquals("worker-0", cluster.getWorkers(0).getWorkerId());
    assertEquals(stack.worker.sandboxLayers(), cluster.getWorkers(0).getSandboxLayersList(), "the layers its probe found");
    assertEquals(1, cluster.getExecutorsCount());
    assertEquals("OSFamily=linux,cpu=2,pool=default", cluster.getExecutors(0).getPlatform());
    assertEquals(1, cluster.getExecutors(0).getTotal());
    assertTrue(cluster.getSchedulersList().contains(stack.scheduler.advertisedAddress()));
    assertEquals(300, cluster.getCacheWindowSeconds());
    assertEquals(1, cluster.getBuildsCount(), "the invocation whose actions finished within the last minute");
    assertEquals("invocation-1", cluster.getBuilds(0).getToolInvocationId());
    assertEquals("bazel 4.2.3", cluster.getBuilds(0).getTool());
    assertEquals(2, cluster.getBuilds(0).getFinished());
    assertEquals(0, cluster.getBuilds(0).getQueued() + cluster.getBuilds(0).getRunning());
    Await.holds("the worker's heartbeat carried its storage figures",
        () -> get("/api/cluster", ClusterOverview.newBuilder()).build().getWorkers(0).getStorage().getCasBlobs() > 0);
    assertEquals(64 << 20, get("/api/cluster", ClusterOverview.newBuilder()).build().getWorkers(0).getStorage()
        .getCasCapacityBytes());
  }

  @Test
  void actionsAreListedWithTheirInvocationAndFilteredByOutcome() throws Exception {
    List<ActionSummary> all = get("/api/actions?invocation=invocation-1", ActionList.newBuilder()).build().getActionsList();
    assertEquals(2, all.size());
    ActionSummary fail = all.get(0); // newest first
    assertEquals("exit_nonzero", fail.getOutcome());
    assertEquals(3, fail.getExitCode());
    assertEquals("worker-0", fail.getWorker());
    assertEquals("//pkg:test", fail.getTargetId());
    assertEquals("TestRunner", fail.getMnemonic());
    assertTrue(fail.getCommand().startsWith("/bin/sh -c echo it broke"), fail.getCommand());
    assertTrue(fail.getExecuteSeconds() > 0, "timings from ExecutedActionMetadata");
    assertEquals(List.of("success"), get("/api/actions?outcome=success", ActionList.newBuilder()).build().getActionsList()
        .stream().map(ActionSummary::getOutcome).toList());
    assertEquals(0, get("/api/actions?invocation=another", ActionList.newBuilder()).build().getActionsCount());
  }

  @Test
  void aFailedActionsPageHasItsStderrAndEveryOutputDownloads() throws Exception {
    String failingDigest = Digests.toString(Digests.of(failing));
    ActionDetail detail = get("/api/actions/" + failingDigest, ActionDetail.newBuilder()).build();
    assertEquals("it broke\n", detail.getStderr());
    assertEquals(3, detail.getResult().getExitCode());
    assertEquals("execution", detail.getResultSource());
    assertEquals(List.of("/bin/sh", "-c", "echo it broke >&2; exit 3"), detail.getCommand().getArgumentsList());
    assertTrue(detail.getExecutions(0).getHistoryCount() > 0);

    ActionDetail ok = get("/api/actions/" + Digests.toString(Digests.of(passing)), ActionDetail.newBuilder()).build();
    OutputFile out = ok.getResult().getOutputFiles(0);
    assertEquals(passed.getResult().getOutputFiles(0), out);
    HttpResponse<String> download = call("GET", "/api/blobs/" + Digests.toString(out.getDigest()) + "?name=out.txt",
        "Authorization", "Bearer " + TOKEN);
    assertEquals("made\n", download.body());
    assertEquals("attachment; filename=\"out.txt\"", download.headers().firstValue("Content-Disposition").orElseThrow());
    DirectoryListing root = get("/api/directories/" + Digests.toString(ok.getAction().getInputRootDigest()),
        DirectoryListing.newBuilder()).build();
    assertEquals("in.txt", root.getDirectory().getFiles(0).getName());
    assertEquals(404, call("GET", "/api/actions/" + "0".repeat(64) + "/1", "Authorization", "Bearer " + TOKEN).statusCode());
    assertEquals(3, failed.getResult().getExitCode());
  }

  @Test
  void drainAndUndrainFromTheApiButNeverFromAnotherSitesPage() throws Exception {
    assertEquals(403, call("POST", "/api/workers/worker-0/drain", "Authorization", "Bearer " + TOKEN,
        "Origin", "http://elsewhere.example").statusCode());
    assertTrue(!stack.scheduler.registry().list().get(0).getDraining(), "the refused request changed nothing");
    assertEquals(404, call("POST", "/api/workers/nobody/drain", "Authorization", "Bearer " + TOKEN).statusCode());
    int port = stack.scheduler.adminPort();
    assertEquals(200, call("POST", "/api/workers/worker-0/drain", "Authorization", "Bearer " + TOKEN,
        "Origin", "http://127.0.0.1:" + port).statusCode());
    Await.until("the worker drains", () -> stack.scheduler.registry().list().get(0).getDraining());
    assertEquals(200, call("POST", "/api/workers/worker-0/undrain", "Authorization", "Bearer " + TOKEN).statusCode());
    Await.until("the worker takes actions again", () -> !stack.scheduler.registry().list().get(0).getDraining());
    ReapiClient client = new ReapiClient(stack.channel);
    ExecuteResponse again = ReapiClient.response(ReapiClient.last(client.execute(client.shellAction("true"), 0, true)));
    assertEquals(0, again.getResult().getExitCode(), "an undrained worker runs actions");
  }
}
