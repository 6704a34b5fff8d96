package build.rex.worker.execution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The folder that holds the exec roots; whatever a previous run left there is removed on start. */
public final class ExecRootsFolder {
  private final Path path;

  public ExecRootsFolder(Path path) {
    this.path = path;
  }

  public void clear() throws IOException {
    if (Files.exists(path)) {
      try (Stream<Path> all = Files.walk(path)) {
        all.filter(Files::isDirectory).forEach(p -> p.toFile().setWritable(true, true));
      }
      try (Stream<Path> all = Files.walk(path)) {
        for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
          if (!p.equals(path)) {
            Files.deleteIfExists(p);
          }
        }
      }
    }
    Files.createDirectories(path);
  }
}
