package build.rex.scheduler;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One series from a server's /metrics on its admin port, for tests that count what a server did. */
final class AdminMetrics {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private AdminMetrics() {}

  /** The value of {@code series} (name and labels as Prometheus writes them), or 0 when absent. */
  static double value(int adminPort, String series) throws Exception {
    String scrape = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    Matcher line = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.eE+-]+)$").matcher(scrape);
    return line.find() ? Double.parseDouble(line.group(1)) : 0;
  }
}
