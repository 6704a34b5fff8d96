package build.rex.server;

import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * A process's tracing (docs/tracing.md): OpenTelemetry spans exported over OTLP/HTTP when
 * {@code tracing.otlpEndpoint} is set, nothing otherwise. Every gRPC call a server takes becomes
 * a SERVER span, the child of the caller's W3C {@code traceparent} header when it sends one; calls
 * to peers carry the current span's. Traces cross the worker protocol's long-lived stream as a
 * traceparent string in the message ({@link #traceparent}, {@link #parent}).
 */
public final class Tracing implements AutoCloseable {
  public static final AttributeKey<String> ACTION_DIGEST = AttributeKey.stringKey("rex.action_digest");
  public static final AttributeKey<String> TOOL_INVOCATION_ID = AttributeKey.stringKey("rex.tool_invocation_id");
  public static final AttributeKey<String> INSTANCE = AttributeKey.stringKey("rex.instance_name");
  private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();
  private static final io.grpc.Context.Key<Context> CALL = io.grpc.Context.key("rex-trace");
  private static final Metadata.Key<String> TRACEPARENT = Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> TRACESTATE = Metadata.Key.of("tracestate", Metadata.ASCII_STRING_MARSHALLER);
  private final OpenTelemetry openTelemetry;
  private final Tracer tracer;

  private Tracing(OpenTelemetry openTelemetry) {
    this.openTelemetry = openTelemetry;
    this.tracer = openTelemetry.getTracer("build.rex");
  }

  /** No spans at all. */
  public static Tracing off() {
    return new Tracing(OpenTelemetry.noop());
  }

  /**
   * @param service {@code service.name}, e.g. rex-scheduler
   * @param instance {@code service.instance.id}, e.g. a worker id
   */
  public static Tracing of(TracingConfig config, String service, String instance) {
    if (config.otlpEndpoint.isEmpty()) {
      return off();
    }
    Resource resource = Resource.getDefault().merge(Resource.create(Attributes.of(
        AttributeKey.stringKey("service.name"), service, AttributeKey.stringKey("service.instance.id"), instance)));
    SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(resource)
        .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(config.sampleRatio)))
        .addSpanProcessor(BatchSpanProcessor.builder(OtlpHttpSpanExporter.builder()
            .setEndpoint(config.otlpEndpoint).setTimeout(Duration.ofSeconds(10)).build())
            .setScheduleDelay(Duration.ofSeconds(2)).build())
        .build();
    return new Tracing(OpenTelemetrySdk.builder().setTracerProvider(provider).build());
  }

  public Tracer tracer() {
    return tracer;
  }

  /** The trace context of the gRPC call being served (its SERVER span), or the current one. */
  public static Context callContext() {
    Context call = CALL.get();
    return call == null ? Context.current() : call;
  }

  /** The W3C traceparent of a context's span; empty when it has none (tracing off, not sampled). */
  public static String traceparent(Context context) {
    Map<String, String> carrier = new HashMap<>();
    W3C.inject(context, carrier, Map::put);
    return carrier.getOrDefault("traceparent", "");
  }

  /** The context a traceparent string names, as the parent of spans; the root when empty. */
  public static Context parent(String traceparent) {
    if (traceparent.isEmpty()) {
      return Context.root();
    }
    return W3C.extract(Context.root(), Map.of("traceparent", traceparent), MAP_GETTER);
  }

  private static final TextMapGetter<Map<String, String>> MAP_GETTER = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Map<String, String> carrier) {
      return carrier.keySet();
    }

    @Override
    public String get(Map<String, String> carrier, String key) {
      return carrier == null ? null : carrier.get(key);
    }
  };

  private static final TextMapGetter<Metadata> HEADERS = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Metadata carrier) {
      return carrier.keys();
    }

    @Override
    public String get(Metadata carrier, String key) {
      if (carrier == null) {
        return null;
      }
      return key.equals("traceparent") ? carrier.get(TRACEPARENT) : key.equals("tracestate") ? carrier.get(TRACESTATE) : null;
    }
  };

  /** A SERVER span around every call, child of the caller's traceparent; current while the call's handlers run. */
  public ServerInterceptor serverInterceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        Context parent = W3C.extract(Context.root(), headers, HEADERS);
        Span span = tracer.spanBuilder(call.getMethodDescriptor().getFullMethodName()).setSpanKind(SpanKind.SERVER)
            .setParent(parent).setAttribute("rpc.system", "grpc").startSpan();
        if (!span.getSpanContext().isValid()) { // tracing off: nothing to carry
          return next.startCall(call, headers);
        }
        Context traced = parent.with(span);
        ServerCall<Q, R> ending = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            span.setAttribute("rpc.grpc.status_code", status.getCode().value());
            if (!status.isOk()) {
              span.setStatus(StatusCode.ERROR, status.getCode() + ": " + status.getDescription());
            }
            span.end();
            super.close(status, trailers);
          }
        };
        io.grpc.Context withTrace = io.grpc.Context.current().withValue(CALL, traced);
        ServerCall.Listener<Q> listener = io.grpc.Contexts.interceptCall(withTrace, ending, headers, next);
        return new io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
          @Override
          public void onMessage(Q message) {
            try (Scope scope = traced.makeCurrent()) {
              super.onMessage(message);
            }
          }

          @Override
          public void onHalfClose() {
            try (Scope scope = traced.makeCurrent()) {
              super.onHalfClose();
            }
          }
        };
      }
    };
  }

  /** Calls to peers carry the current span as their traceparent (W3C trace context). */
  public static ClientInterceptor clientInterceptor() {
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> method, io.grpc.CallOptions options,
          io.grpc.Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void start(Listener<R> responseListener, Metadata headers) {
            W3C.inject(Context.current(), headers, (carrier, key, value) -> {
              if (key.equals("traceparent")) {
                carrier.put(TRACEPARENT, value);
              } else if (key.equals("tracestate")) {
                carrier.put(TRACESTATE, value);
              }
            });
            super.start(responseListener, headers);
          }
        };
      }
    };
  }

  /** Sends what is still buffered and stops. */
  @Override
  public void close() {
    if (openTelemetry instanceof OpenTelemetrySdk sdk) {
      sdk.getSdkTracerProvider().shutdown().join(10, java.util.concurrent.TimeUnit.SECONDS);
    }
  }
}
