package build.rex.scheduler.ui;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.rex.scheduler.cluster.SchedulerPeers;
import build.rex.scheduler.execution.Dispatcher;
import build.rex.server.AdminServer;
import build.rex.server.security.AdminAccess;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.Digests;
import build.rex.storage.ac.ActionCache;
import build.rex.v1.DirectoryListing;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The web UI on a scheduler's admin port: pages under /ui/ (static HTML and scripts that read
 * the JSON API under /api/), both behind {@link AdminAccess}; /ui/login takes a token and keeps
 * it in a cookie. Every change (drain, undrain) is a POST to the API. docs/ui.md describes it.
 */
public final class UiRoutes {
  private static final Pattern DIGEST = Pattern.compile("([0-9a-f]{64})/([0-9]+)");
  private static final Map<String, String> PAGES = Map.of("/ui/", "index.html", "/ui/action", "action.html");
  private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8",
      "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8");
  /** The hit ratio covers the last five minutes, sampled every 10 s. */
  public static final int CACHE_SAMPLE_SECONDS = 10;
  private static final int CACHE_SAMPLES = 30;
  /** The messages that travel in Any fields of what the API shows (ExecutedActionMetadata.auxiliary_metadata). */
  public static final com.google.protobuf.TypeRegistry TYPES_IN_ANY = com.google.protobuf.TypeRegistry.newBuilder()
      .add(build.rex.v1.ResourceUsage.getDescriptor()).build();
  private static final JsonFormat.Printer JSON = JsonFormat.printer().usingTypeRegistry(TYPES_IN_ANY)
      .includingDefaultValueFields();
  private final AdminAccess access;
  private final Dispatcher dispatcher;
  private final BlobStore cas;
  private final ActionViews actions;
  private final CacheWindow cacheWindow;
  private final ClusterView cluster;

  /** Where the Action Cache's running totals come from (the scheduler's counters). */
  public record CacheTotals(java.util.function.LongSupplier hits, java.util.function.LongSupplier lookups) {}

  public UiRoutes(AdminAccess access, Dispatcher dispatcher, BlobStore cas, ActionCache actionCache,
      SchedulerPeers peers, CacheTotals cacheTotals) {
    this.access = access;
    this.dispatcher = dispatcher;
    this.cas = cas;
    this.actions = new ActionViews(dispatcher, cas, actionCache);
    this.cacheWindow = new CacheWindow(cacheTotals.hits(), cacheTotals.lookups(), CACHE_SAMPLES);
    this.cluster = new ClusterView(dispatcher, peers, cacheWindow, CACHE_SAMPLES * CACHE_SAMPLE_SECONDS);
  }

  /** Takes a sample of the Action Cache totals; call every {@link #CACHE_SAMPLE_SECONDS}. */
  public void sample() {
    cacheWindow.sample();
  }

  public void install(AdminServer admin) {
    admin.openRoute("/ui/login", this::login);
    admin.openRoute("/ui/assets/", this::asset);
    admin.openRoute("/ui/", this::page);
    admin.route("/api/", this::api);
  }

  // ---- pages ----

  private void page(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String page = PAGES.get(path);
    if (page == null) {
      AdminServer.respond(exchange, 404, "text/plain", "no page " + path + "\n");
      return;
    }
    var refusal = access.check(exchange);
    if (refusal.isPresent() && refusal.get().status() == 401) {
      String next = path + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery());
      redirect(exchange, "/ui/login?next=" + URLEncoder.encode(next, StandardCharsets.UTF_8));
    } else if (refusal.isPresent()) {
      AdminServer.respond(exchange, refusal.get().status(), "text/plain", refusal.get().message() + "\n");
    } else {
      resource(exchange, page);
    }
  }

  private void asset(HttpExchange exchange) throws IOException {
    String name = exchange.getRequestURI().getPath().substring("/ui/".length());
    if (!name.matches("assets/[a-z0-9-]+\\.(js|css)")) {
      AdminServer.respond(exchange, 404, "text/plain", "no such asset\n");
      return;
    }
    resource(exchange, name);
  }

  /**
   * GET shows the form (a token in the address's #fragment is filled in and sent at once: it
   * never reaches a server log); POST checks the token and keeps it in an HttpOnly cookie.
   */
  private void login(HttpExchange exchange) throws IOException {
    Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
    String next = query.getOrDefault("next", "/ui/");
    if (!next.startsWith("/ui/") || next.startsWith("//")) {
      next = "/ui/";
    }
    if (!access.needsToken()) {
      redirect(exchange, next);
      return;
    }
    if (exchange.getRequestMethod().equals("POST")) {
      if (access.check(exchange).filter(r -> r.status() == 403).isPresent()) {
        AdminServer.respond(exchange, 403, "text/plain", "a login sent from another site's page is refused\n");
        return;
      }
      String token = query(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8))
          .getOrDefault("token", "");
      if (access.isValid(token)) {
        exchange.getResponseHeaders().add("Set-Cookie",
            AdminAccess.COOKIE + "=" + token + "; Path=/; HttpOnly; SameSite=Strict");
        redirect(exchange, next);
        return;
      }
      exchange.getResponseHeaders().set("Location", "/ui/login?failed=1&next=" + URLEncoder.encode(next, StandardCharsets.UTF_8));
      exchange.sendResponseHeaders(303, -1);
      return;
    }
    resource(exchange, "login.html");
  }

  // ---- the JSON API ----

  private void api(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
    String method = exchange.getRequestMethod();
    String instance = query.getOrDefault("instance", "");
    Matcher digest;
    if (path.startsWith("/api/workers/") && (path.endsWith("/drain") || path.endsWith("/undrain"))) {
      if (!method.equals("POST")) {
        AdminServer.respond(exchange, 405, "text/plain", "use POST\n");
        return;
      }
      boolean undo = path.endsWith("/undrain");
      String id = path.substring("/api/workers/".length(), path.lastIndexOf('/'));
      var info = dispatcher.workers().drain(id, undo);
      if (info.isPresent()) {
        json(exchange, info.get());
      } else {
        AdminServer.respond(exchange, 404, "text/plain", "no worker '" + id + "' is connected to this scheduler\n");
      }
      return;
    }
    if (!method.equals("GET")) {
      AdminServer.respond(exchange, 405, "text/plain", "use GET\n");
      return;
    }
    if (path.equals("/api/cluster")) {
      json(exchange, cluster.overview());
    } else if (path.equals("/api/actions")) {
      json(exchange, actions.list(instance, query.getOrDefault("outcome", ""), query.getOrDefault("invocation", "")));
    } else if ((digest = digestAfter(path, "/api/actions/")) != null) {
      Optional<build.rex.v1.ActionDetail> detail = actions.detail(instance, digest(digest));
      if (detail.isPresent()) {
        json(exchange, detail.get());
      } else {
        AdminServer.respond(exchange, 404, "text/plain", "neither this scheduler nor the CAS knows that action\n");
      }
    } else if ((digest = digestAfter(path, "/api/directories/")) != null) {
      Digest d = digest(digest);
      Optional<com.google.protobuf.ByteString> bytes = actions.read(d);
      if (bytes.isEmpty()) {
        AdminServer.respond(exchange, 404, "text/plain", "that directory is not in the CAS\n");
      } else {
        json(exchange, DirectoryListing.newBuilder().setDigest(d).setDirectory(Directory.parseFrom(bytes.get())));
      }
    } else if ((digest = digestAfter(path, "/api/blobs/")) != null) {
      blob(exchange, digest(digest), query.getOrDefault("name", ""), query.containsKey("inline"));
    } else {
      AdminServer.respond(exchange, 404, "text/plain", "unknown path " + path + "\n");
    }
  }

  /** A blob's bytes: a download named {@code name}, or shown as text with {@code inline}. */
  private void blob(HttpExchange exchange, Digest digest, String name, boolean inline) throws IOException {
    InputStream in;
    try {
      in = cas.openRead(digest, 0);
    } catch (BlobNotFoundException e) {
      AdminServer.respond(exchange, 404, "text/plain", "that blob is not in the CAS\n");
      return;
    }
    try (in) {
      String fileName = (name.isEmpty() ? digest.getHash() : name.replaceAll(".*/", "")).replaceAll("[^A-Za-z0-9._-]", "_");
      exchange.getResponseHeaders().set("Content-Type", inline ? "text/plain; charset=utf-8" : "application/octet-stream");
      exchange.getResponseHeaders().set("Content-Disposition", (inline ? "inline" : "attachment") + "; filename=\"" + fileName + "\"");
      exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
      exchange.sendResponseHeaders(200, digest.getSizeBytes() == 0 ? -1 : digest.getSizeBytes());
      try (OutputStream out = exchange.getResponseBody()) {
        in.transferTo(out);
      }
    }
  }

  // ---- plumbing ----

  private static Matcher digestAfter(String path, String prefix) {
    if (!path.startsWith(prefix)) {
      return null;
    }
    Matcher matcher = DIGEST.matcher(path.substring(prefix.length()));
    return matcher.matches() ? matcher : null;
  }

  private static Digest digest(Matcher matcher) {
    return Digests.of(matcher.group(1), Long.parseLong(matcher.group(2)));
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> values = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return values;
    }
    for (String pair : raw.split("&")) {
      String[] kv = pair.split("=", 2);
      values.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8), kv.length < 2 ? "" : URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
    }
    return values;
  }

  private static void redirect(HttpExchange exchange, String to) throws IOException {
    exchange.getResponseHeaders().set("Location", to);
    exchange.sendResponseHeaders(303, -1);
  }

  private static void json(HttpExchange exchange, MessageOrBuilder message) throws IOException {
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    AdminServer.respond(exchange, 200, "application/json", JSON.print(message) + "\n");
  }

  private static void resource(HttpExchange exchange, String name) throws IOException {
    try (InputStream in = UiRoutes.class.getResourceAsStream(name)) {
      if (in == null) {
        AdminServer.respond(exchange, 404, "text/plain", "no such file\n");
        return;
      }
      byte[] bytes = in.readAllBytes();
      exchange.getResponseHeaders().set("Content-Type", TYPES.get(name.substring(name.lastIndexOf('.') + 1)));
      exchange.getResponseHeaders().set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:");
      exchange.getResponseHeaders().set("X-Frame-Options", "DENY");
      exchange.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }
}
