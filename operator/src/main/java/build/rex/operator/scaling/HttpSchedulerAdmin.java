package build.rex.operator.scaling;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/** {@link SchedulerAdmin} over the scheduler's admin HTTP port ({@code POST /workers/<id>/drain}). */
public final class HttpSchedulerAdmin implements SchedulerAdmin {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  @Override
  public Optional<WorkerState> drain(URI base, String workerId) throws IOException {
    HttpRequest request = HttpRequest.newBuilder(base.resolve("/workers/" + workerId + "/drain"))
        .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.noBody()).build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
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
}
