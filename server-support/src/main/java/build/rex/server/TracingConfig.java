package build.rex.server;

import build.rex.config.Validated;

/** Where spans go (OpenTelemetry, OTLP over HTTP); off unless an endpoint is set. */
public final class TracingConfig implements Validated {
  /** The collector's OTLP/HTTP traces URL, e.g. {@code http://otel-collector:4318/v1/traces}; empty: no tracing. */
  public String otlpEndpoint = "";
  /** The share of traces kept (a trace started elsewhere keeps its sampling decision). */
  public double sampleRatio = 1.0;

  public void validate(String key) {
    Validated.require(otlpEndpoint != null && (otlpEndpoint.isEmpty() || otlpEndpoint.matches("https?://.+")),
        key + ".otlpEndpoint", "must be empty or an http:// or https:// URL, got " + otlpEndpoint);
    Validated.require(sampleRatio >= 0 && sampleRatio <= 1, key + ".sampleRatio",
        "must be between 0 and 1, got " + sampleRatio);
  }

  @Override
  public void validate() {
    validate("tracing");
  }
}
