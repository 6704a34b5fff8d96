package build.rex.worker.execution;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** A folder of exec roots, or one exec root, emptied or removed with whatever an action left in it. */
public final class ExecRootsFolder {
  private final Path path;

  public ExecRootsFolder(Path path) {
    this.path = path;
  }

  /** Empties the folder (creating it if needed); on start, whatever a previous run left goes. */
  public void clear() throws IOException {
    deleteContents();
    Files.createDirectories(path);
  }

  /** Removes the folder and everything in it. */
  public void delete() throws IOException {
    deleteContents();
    Files.deleteIfExists(path);
  }

  private void deleteContents() throws IOException {
    if (Files.exists(path)) {
      try (Stream<Path> all = Files.walk(path)) {
        // Never through symlinks: an action may leave links to folders outside its exec root.
        all.filter(p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
            .forEach(p -> p.toFile().setWritable(true, true));
      }
      try (Stream<Path> all = Files.walk(path)) {
        for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
          if (!p.equals(path)) {
            Files.deleteIfExists(p);
          }
        }
      }
    }
  }
}
