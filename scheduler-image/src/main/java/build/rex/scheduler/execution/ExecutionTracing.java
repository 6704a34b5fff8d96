package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.Platform;
import build.rex.server.Tracing;
import build.rex.storage.Digests;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * The scheduler's part of an action's trace (docs/tracing.md): under the client's Execute call,
 * a span for the time the action waited in the queue and one for its dispatch to an executor.
 * The worker's spans join the same trace through the Assignment's traceparent.
 */
public final class ExecutionTracing implements Dispatcher.Observer {
  private final Tracer tracer;

  public ExecutionTracing(Tracer tracer) {
    this.tracer = tracer;
  }

  @Override
  public void assigned(Job job, String worker, String executor, Platform platform, long queuedNanos) {
    if (job.traceparent().isEmpty()) {
      return;
    }
    Instant now = Instant.now();
    io.opentelemetry.context.Context parent = Tracing.parent(job.traceparent());
    String digest = Digests.toString(job.key().actionDigest());
    tracer.spanBuilder("queued").setParent(parent)
        .setStartTimestamp(now.minusNanos(queuedNanos)).setAttribute(Tracing.ACTION_DIGEST, digest)
        .setAttribute(Tracing.TOOL_INVOCATION_ID, job.requester().getToolInvocationId())
        .setAttribute("rex.priority", job.priority()).startSpan().end(now);
    Span dispatch = tracer.spanBuilder("dispatch").setParent(parent).setStartTimestamp(now)
        .setAttribute(Tracing.ACTION_DIGEST, digest).setAttribute("rex.worker", worker)
        .setAttribute("rex.executor", executor).setAttribute("rex.platform", ExecutionMetrics.label(platform))
        .startSpan();
    dispatch.end(now.plusNanos(TimeUnit.MICROSECONDS.toNanos(1)));
  }
}
