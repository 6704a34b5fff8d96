package build.rex.operator.scaling;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/** {@link SchedulerAdmin} over the schedulers' admin HTTP port ({@code POST /workers/<id>/drain}, {@code GET /api/cluster}). */
public final class HttpSchedulerAdmin implements SchedulerAdmin {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  @Override
  public Optional<WorkerState> drain(URI base, String workerId) throws IOException {
    HttpRequest request = HttpRequest.newBuilder(base.resolve("/workers/" + workerId + "/drain"))
        .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.noBody()).build();
    HttpResponse<String> response = send(request);
    if (response.statusCode() == 404) {
      return Optional.empty();
    }
    if (response.statusCode() != 200) {
      throw new IOException("POST " + request.uri() + " answered " + response.statusCode() + ": " + response.body().strip());
    }
    JsonNode worker = JSON.readTree(response.body());
    return Optional.of(new WorkerState(worker.path("workerId").asText(workerId), worker.path("draining").asBoolean(),
        worker.path("drained").asBoolean(), worker.path("detail").asText("")));
  }

  @Override
  public QueueLoad load(URI base) throws IOException {
    List<QueueLoad.Queued> queued = new ArrayList<>();
    List<QueueLoad.Executors> executors = new ArrayList<>();
    for (JsonNode overview : overviews(base)) {
      for (JsonNode queue : overview.path("queues")) {
        queued.add(new QueueLoad.Queued(QueueLoad.platform(queue.path("platform").asText("")), queue.path("queued").asInt()));
      }
      for (JsonNode figure : overview.path("executors")) {
        executors.add(new QueueLoad.Executors(QueueLoad.platform(figure.path("platform").asText("")),
            figure.path("total").asInt(), figure.path("busy").asInt()));
      }
    }
    return new QueueLoad(queued, executors);
  }

  @Override
  public Map<String, List<String>> sandboxLayers(URI base) throws IOException {
    Map<String, List<String>> layers = new TreeMap<>();
    for (JsonNode overview : overviews(base)) {
      for (JsonNode worker : overview.path("workers")) {
        List<String> used = new ArrayList<>();
        worker.path("sandboxLayers").forEach(layer -> used.add(layer.asText()));
        layers.put(worker.path("workerId").asText(), used);
      }
    }
    return layers;
  }

  /** GET /api/cluster of every scheduler {@code base}'s host name resolves to. */
  private List<JsonNode> overviews(URI base) throws IOException {
    List<JsonNode> overviews = new ArrayList<>();
    for (InetAddress address : InetAddress.getAllByName(base.getHost())) {
      URI scheduler = URI.create(base.getScheme() + "://" + hostLiteral(address) + ":" + base.getPort() + "/api/cluster");
      HttpResponse<String> response = send(HttpRequest.newBuilder(scheduler).timeout(Duration.ofSeconds(5)).GET().build());
      if (response.statusCode() != 200) {
        throw new IOException("GET " + scheduler + " answered " + response.statusCode() + ": " + response.body().strip());
      }
      overviews.add(JSON.readTree(response.body()));
    }
    return overviews;
  }

  private HttpResponse<String> send(HttpRequest request) throws IOException {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private static String hostLiteral(InetAddress address) {
    String host = address.getHostAddress();
    return host.contains(":") ? "[" + host + "]" : host;
  }
}
