package build.rex.scheduler.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.longrunning.Operation;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A stopping scheduler ends its clients' streams with UNAVAILABLE, once each. */
class ClientStreamsTest {
  @Test
  void stoppingEndsOpenStreamsAndEveryLaterOne() {
    ClientStreams streams = new ClientStreams();
    Client open = new Client();
    Client finished = new Client();
    StreamObserver<Operation> tracked = streams.track(open);
    StreamObserver<Operation> done = streams.track(finished);
    tracked.onNext(Operation.getDefaultInstance());
    done.onCompleted();

    streams.endAll("stopping");
    assertEquals(Status.Code.UNAVAILABLE, Status.fromThrowable(open.error).getCode());
    assertEquals(1, open.events.size() - 1, "one update, then the error");
    assertNull(finished.error, "a finished stream is left alone");
    assertThrows(IllegalStateException.class, () -> tracked.onNext(Operation.getDefaultInstance()),
        "an update after the end tells the job to drop the watcher");
    tracked.onCompleted();
    assertEquals(List.of("next", "error"), open.events);

    Client late = new Client();
    streams.track(late);
    assertEquals(Status.Code.UNAVAILABLE, Status.fromThrowable(late.error).getCode(), "a call that came in while stopping");
  }

  private static final class Client implements StreamObserver<Operation> {
    final List<String> events = new ArrayList<>();
    Throwable error;

    @Override
    public void onNext(Operation value) {
      events.add("next");
    }

    @Override
    public void onError(Throwable t) {
      events.add("error");
      error = t;
    }

    @Override
    public void onCompleted() {
      events.add("completed");
    }
  }
}
