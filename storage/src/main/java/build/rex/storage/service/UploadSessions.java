package build.rex.storage.service;

import build.rex.storage.BlobResourceName;
import build.rex.storage.BlobWriter;
import build.rex.storage.InvalidArgumentException;
import com.google.protobuf.ByteString;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Uploads that are in progress or were interrupted, by resource name, so that a client can
 * resume a broken ByteStream Write where QueryWriteStatus says it stopped. Sessions idle longer
 * than the configured time are discarded.
 */
final class UploadSessions implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(UploadSessions.class);
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final long idleNanos;
  private final ScheduledExecutorService reaper = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread thread = new Thread(r, "upload-session-reaper");
    thread.setDaemon(true);
    return thread;
  });

  UploadSessions(Duration idleTimeout) {
    this.idleNanos = idleTimeout.toNanos();
    long period = Math.max(1, idleTimeout.toSeconds() / 4);
    reaper.scheduleAtFixedRate(this::discardIdle, period, period, TimeUnit.SECONDS);
  }

  /** One upload: the writer of the blob and where the client's next chunk must start. */
  static final class Session {
    final String resourceName;
    final BlobResourceName name;
    final BlobWriter writer;
    private final ZstdDecompressingWriter decoder;
    private final long firstOffset;
    volatile long lastActive = System.nanoTime();
    /** The Write call currently feeding this upload, told when the store fails it. */
    volatile java.util.function.Consumer<Throwable> owner;

    Session(String resourceName, BlobResourceName name, BlobWriter writer, long firstOffset) {
      this.resourceName = resourceName;
      this.name = name;
      this.writer = writer;
      this.decoder = name.isCompressed() ? new ZstdDecompressingWriter(writer) : null;
      this.firstOffset = firstOffset;
      writer.onFailure(error -> {
        java.util.function.Consumer<Throwable> current = owner;
        if (current != null) {
          current.accept(error);
        }
      });
    }

    /** The offset the next chunk must have: uncompressed bytes, or compressed bytes for compressed uploads. */
    long nextOffset() {
      return decoder == null ? writer.committedSize() : firstOffset + decoder.compressedBytes();
    }

    void append(ByteString data) throws IOException, InvalidArgumentException {
      lastActive = System.nanoTime();
      if (decoder == null) {
        writer.write(data);
      } else {
        decoder.write(data);
      }
    }

    void discard() {
      try {
        writer.close();
      } catch (IOException e) {
        log.warn("could not discard upload {}: {}", resourceName, e.toString());
      }
      if (decoder != null) {
        decoder.close();
      }
    }
  }

  Session get(String resourceName) {
    return sessions.get(resourceName);
  }

  void put(Session session) {
    Session previous = sessions.put(session.resourceName, session);
    if (previous != null && previous != session) {
      previous.discard();
    }
  }

  /** Ends a session, discarding what it holds unless it was committed. */
  void end(Session session) {
    sessions.remove(session.resourceName, session);
    session.discard();
  }

  int size() {
    return sessions.size();
  }

  private void discardIdle() {
    long now = System.nanoTime();
    sessions.values().removeIf(session -> {
      if (now - session.lastActive > idleNanos) {
        log.info("discarding upload {} after it was idle too long", session.resourceName);
        session.discard();
        return true;
      }
      return false;
    });
  }

  @Override
  public void close() {
    reaper.shutdownNow();
    sessions.values().forEach(Session::discard);
    sessions.clear();
  }
}
