package build.rex.scheduler.execution;

import com.google.longrunning.Operation;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Execute and WaitExecution streams open on this scheduler. A scheduler that stops ends
 * every one of them at once with UNAVAILABLE, so each client follows its operation on another
 * scheduler (which takes it over) instead of waiting for the drain to run out and then being
 * told CANCELLED. Each tracked stream also serializes its calls, since updates, completion and
 * the stop come from different threads.
 */
final class ClientStreams {
  private final Set<Tracked> open = ConcurrentHashMap.newKeySet();
  private volatile String stopping;

  /** The stream, tracked until it ends. */
  StreamObserver<Operation> track(StreamObserver<Operation> stream) {
    Tracked tracked = new Tracked(stream);
    open.add(tracked);
    if (stopping != null) {
      tracked.end(stopping);
    }
    return tracked;
  }

  /** Ends every open stream, and every one opened from now on, with UNAVAILABLE. */
  void endAll(String why) {
    stopping = why;
    List.copyOf(open).forEach(stream -> stream.end(why));
  }

  private final class Tracked implements StreamObserver<Operation> {
    private final StreamObserver<Operation> delegate;
    private boolean ended;

    Tracked(StreamObserver<Operation> delegate) {
      this.delegate = delegate;
    }

    @Override
    public synchronized void onNext(Operation operation) {
      if (ended) {
        throw new IllegalStateException("the stream has ended");
      }
      delegate.onNext(operation);
    }

    @Override
    public synchronized void onError(Throwable t) {
      if (finish()) {
        delegate.onError(t);
      }
    }

    @Override
    public synchronized void onCompleted() {
      if (finish()) {
        delegate.onCompleted();
      }
    }

    synchronized void end(String why) {
      onError(Status.UNAVAILABLE.withDescription(why).asRuntimeException());
    }

    private boolean finish() {
      open.remove(this);
      if (ended) {
        return false;
      }
      ended = true;
      return true;
    }
  }
}
