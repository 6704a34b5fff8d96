package build.rex.worker.cluster;

import build.rex.storage.DaemonThreads;
import build.rex.v1.SchedulerMessage;
import build.rex.v1.WorkerMessage;
import build.rex.v1.WorkerServiceGrpc;
import build.rex.worker.execution.SchedulerConnection;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's stream to one scheduler, reopened with backoff whenever it ends. What the stream
 * carries is the listener's business; this class only keeps it open and sends in order.
 */
public final class SchedulerLink implements SchedulerConnection, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SchedulerLink.class);
  static final long CONNECT_CHECK_SECONDS = 6;

  /** What a link reports to, and what it sends first on every new stream. */
  public interface Listener {
    /** The Hello and whatever else a scheduler must know before anything else. */
    List<WorkerMessage> greeting();

    void onMessage(SchedulerLink link, SchedulerMessage message);

    /** The stream ended; it will be reopened unless the link is closed. */
    void onDown(SchedulerLink link);
  }

  private final String address;
  private final Channel channel;
  private final Listener listener;
  private final Thread loop;
  private StreamObserver<WorkerMessage> stream;
  private volatile boolean closed;

  public SchedulerLink(String address, Channel channel, Listener listener) {
    this.address = address;
    this.channel = channel;
    this.listener = listener;
    this.loop = DaemonThreads.named("scheduler-link " + address).newThread(this::connectLoop);
  }

  public SchedulerLink start() {
    loop.start();
    return this;
  }

  public String address() {
    return address;
  }

  public synchronized boolean isConnected() {
    return stream != null;
  }

  private void connectLoop() {
    long backoffMillis = 200;
    while (!closed) {
      CountDownLatch ended = new CountDownLatch(1);
      StreamObserver<WorkerMessage> out = WorkerServiceGrpc.newStub(channel).connect(new StreamObserver<>() {
        @Override
        public void onNext(SchedulerMessage message) {
          listener.onMessage(SchedulerLink.this, message);
        }

        @Override
        public void onError(Throwable t) {
          ended.countDown();
        }

        @Override
        public void onCompleted() {
          ended.countDown();
        }
      });
      synchronized (this) {
        stream = out;
        try {
          listener.greeting().forEach(out::onNext);
        } catch (RuntimeException e) {
          log.debug("could not greet {}: {}", address, e.toString());
        }
      }
      try {
        if (ended.await(CONNECT_CHECK_SECONDS, TimeUnit.SECONDS)) {
          backoffMillis = Math.min(backoffMillis * 2, 5_000); // failed fast: probably not up yet
        } else {
          log.info("connected to scheduler {}", address);
          backoffMillis = 200;
          ended.await();
        }
        synchronized (this) {
          stream = null;
        }
        listener.onDown(this);
        if (!closed) {
          log.debug("stream to scheduler {} ended; reconnecting in {} ms", address, backoffMillis);
          Thread.sleep(backoffMillis);
        }
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Sends on the current stream; dropped while disconnected (the scheduler has forgotten us then). */
  @Override
  public synchronized void send(WorkerMessage message) {
    if (stream != null) {
      try {
        stream.onNext(message);
      } catch (RuntimeException e) {
        log.debug("could not send to scheduler {}: {}", address, e.toString());
      }
    }
  }

  /**
   * Sends a message made at the moment of sending: every message sent before it on this link
   * is older than the state it describes.
   */
  public synchronized void sendComputed(java.util.function.Supplier<WorkerMessage> message) {
    if (stream != null) {
      send(message.get());
    }
  }

  @Override
  public void close() {
    closed = true;
    synchronized (this) {
      if (stream != null) {
        try {
          stream.onCompleted();
        } catch (RuntimeException alreadyEnded) {
          // nothing to end
        }
        stream = null;
      }
    }
    loop.interrupt();
  }
}
