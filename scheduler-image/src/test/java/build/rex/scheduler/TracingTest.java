package build.rex.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.RequestMetadata;
import build.rex.storage.Digests;
import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One traced action, as an OTLP receiver in this test sees it: the client's Execute call on the
 * scheduler, its time in the queue and its dispatch, the worker's run with its input fetch,
 * execution and output upload, and the peer worker's side of the output's copy, all one trace
 * with the expected parents (W3C trace context across the worker protocol and between peers).
 */
class TracingTest {
  @TempDir Path dataDir;
  private HttpServer receiver;
  /** Each span with the service.name of the process that sent it. */
  private final List<Received> spans = new CopyOnWriteArrayList<>();
  private LocalStack stack;

  private record Received(String service, Span span) {
    String attribute(String key) {
      return span.getAttributesList().stream().filter(a -> a.getKey().equals(key)).findFirst()
          .map(a -> a.getValue().getStringValue()).orElse("");
    }
  }

  @BeforeEach
  void start() throws Exception {
    receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    receiver.createContext("/v1/traces", exchange -> {
      try (exchange) {
        ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(exchange.getRequestBody().readAllBytes());
        for (ResourceSpans resource : request.getResourceSpansList()) {
          String service = resource.getResource().getAttributesList().stream()
              .filter(a -> a.getKey().equals("service.name")).map(KeyValue::getValue).findFirst()
              .map(v -> v.getStringValue()).orElse("");
          resource.getScopeSpansList().forEach(scope -> scope.getSpansList().forEach(s -> spans.add(new Received(service, s))));
        }
        byte[] answer = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
        exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
        exchange.sendResponseHeaders(200, answer.length == 0 ? -1 : answer.length);
      }
    });
    receiver.start();
    String endpoint = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/v1/traces";
    stack = new LocalStack(dataDir, 64 << 20, 2, 1, 2,
        config -> config.tracing.otlpEndpoint = endpoint, config -> config.tracing.otlpEndpoint = endpoint);
  }

  @AfterEach
  void stop() throws Exception {
    stack.close();
    receiver.stop(0);
  }

  private Optional<Received> find(Predicate<Received> which) {
    return spans.stream().filter(which).findFirst();
  }

  private Received awaitSpan(String what, Predicate<Received> which) throws Exception {
    Await.holds(what, () -> find(which).isPresent());
    return find(which).orElseThrow();
  }

  private static Predicate<Received> named(String service, String name) {
    return r -> r.service().equals(service) && r.span().getName().equals(name);
  }

  private static Predicate<Received> childOf(Received parent) {
    return r -> r.span().getParentSpanId().equals(parent.span().getSpanId())
        && r.span().getTraceId().equals(parent.span().getTraceId());
  }

  @Test
  void oneActionIsOneTraceFromTheClientsCallToThePeerThatTakesItsOutput() throws Exception {
    ReapiClient client = new ReapiClient(stack.channel);
    Action action = client.shellAction("echo traced > out.txt", "out.txt");
    RequestMetadata bazel = RequestMetadata.newBuilder().setToolInvocationId("traced-invocation").build();
    ReapiClient.response(ReapiClient.last(client.execute(action, 0, true, bazel)));
    String digest = Digests.toString(Digests.of(action));

    Received execute = awaitSpan("the Execute call's span", named("rex-scheduler",
        "build.bazel.remote.execution.v2.Execution/Execute").and(r -> r.attribute("rex.action_digest").equals(digest)));
    assertEquals(Span.SpanKind.SPAN_KIND_SERVER, execute.span().getKind());
    assertEquals(ByteString.EMPTY, execute.span().getParentSpanId(), "the client sent no traceparent: a root");
    assertEquals("traced-invocation", execute.attribute("rex.tool_invocation_id"));

    Received queued = awaitSpan("the queue's span", named("rex-scheduler", "queued").and(childOf(execute)));
    assertEquals(digest, queued.attribute("rex.action_digest"));
    Received dispatch = awaitSpan("the dispatch", named("rex-scheduler", "dispatch").and(childOf(execute)));
    assertTrue(dispatch.attribute("rex.worker").startsWith("worker-"));

    Received run = awaitSpan("the worker's run, in the client's trace", named("rex-worker", "run action").and(childOf(execute)));
    assertEquals("traced-invocation", run.attribute("rex.tool_invocation_id"));
    assertTrue(run.span().getStartTimeUnixNano() >= queued.span().getEndTimeUnixNano() - 50_000_000L,
        "it ran after it left the queue (clocks of one machine)");
    awaitSpan("the input fetch", named("rex-worker", "fetch inputs").and(childOf(run)));
    awaitSpan("the execution", named("rex-worker", "execute").and(childOf(run)));
    Received upload = awaitSpan("the output upload", named("rex-worker", "upload outputs").and(childOf(run)));
    // Two workers, two copies: the output (and its Action Cache entry) also go to the peer,
    // whose server span is the upload's child through the call's traceparent header.
    Received peer = awaitSpan("the peer's side of the copy", r -> r.service().equals("rex-worker")
        && r.span().getKind() == Span.SpanKind.SPAN_KIND_SERVER && childOf(upload).test(r));
    assertTrue(peer.span().getName().startsWith("build.bazel.remote.execution.v2.")
        || peer.span().getName().startsWith("google.bytestream."), peer.span().getName());
  }
}
