package build.rex.server.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A file parsed into a value and parsed again when it changes (a Kubernetes Secret update
 * swaps the file under us). Checked at most once a second; a file that fails to parse keeps
 * the last good value and is logged, so a half-written update never locks everyone out.
 */
public final class ReloadingFile<T> {
  /** Turns the file's bytes into the value; throws when they cannot be used. */
  public interface Parser<T> {
    T parse(byte[] content) throws Exception;
  }

  private static final Logger log = LoggerFactory.getLogger(ReloadingFile.class);
  private static final long CHECK_INTERVAL_MILLIS = 1000;
  private final Path path;
  private final Parser<T> parser;
  private final Clock clock;
  private volatile T value;
  private String version;
  private volatile long nextCheck;

  /** Reads the file now: a server must not start with credentials it cannot read. */
  public ReloadingFile(Path path, Parser<T> parser, Clock clock) throws IOException {
    this.path = path;
    this.parser = parser;
    this.clock = clock;
    version = versionOf(path);
    try {
      value = parser.parse(Files.readAllBytes(path));
    } catch (IOException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException(path + ": " + e.getMessage(), e);
    }
    nextCheck = clock.millis() + CHECK_INTERVAL_MILLIS;
  }

  public ReloadingFile(Path path, Parser<T> parser) throws IOException {
    this(path, parser, Clock.systemUTC());
  }

  /** The value of the file as it last parsed; called on every request, so it takes no lock. */
  public T get() {
    if (clock.millis() >= nextCheck) {
      checkForChange();
    }
    return value;
  }

  private synchronized void checkForChange() {
    long now = clock.millis();
    if (now >= nextCheck) {
      nextCheck = now + CHECK_INTERVAL_MILLIS;
      reloadIfChanged();
    }
  }

  private void reloadIfChanged() {
    try {
      String current = versionOf(path);
      if (current.equals(version)) {
        return;
      }
      value = parser.parse(Files.readAllBytes(path));
      version = current;
      log.info("reloaded {}", path);
    } catch (Exception e) {
      log.warn("keeping the previous contents of {}: {}", path, e.getMessage());
    }
  }

  /** Modification time, size and file key: a replaced file changes at least one of them. */
  private static String versionOf(Path path) throws IOException {
    BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
    return attributes.lastModifiedTime() + "/" + attributes.size() + "/" + attributes.fileKey();
  }
}
