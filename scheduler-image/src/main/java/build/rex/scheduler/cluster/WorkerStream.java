package build.rex.scheduler.cluster;

import build.rex.v1.SchedulerMessage;
import io.grpc.stub.StreamObserver;

/**
 * The scheduler's side of one worker's stream. gRPC streams take one message at a time, and the
 * dispatcher and the membership both write to it, so every write goes through here.
 */
public final class WorkerStream {
  private final StreamObserver<SchedulerMessage> stream;

  public WorkerStream(StreamObserver<SchedulerMessage> stream) {
    this.stream = stream;
  }

  /** Sends a message; a stream that already ended drops it (the worker is being removed). */
  public synchronized void send(SchedulerMessage message) {
    try {
      stream.onNext(message);
    } catch (RuntimeException ended) {
      // the worker is gone; its removal follows from the stream's end
    }
  }

  /** Ends the stream, with an error when {@code status} is not null. */
  public synchronized void end(io.grpc.Status status) {
    try {
      if (status == null) {
        stream.onCompleted();
      } else {
        stream.onError(status.asRuntimeException());
      }
    } catch (RuntimeException alreadyEnded) {
      // nothing to end
    }
  }
}
