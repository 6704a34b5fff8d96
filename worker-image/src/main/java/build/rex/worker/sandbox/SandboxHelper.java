package build.rex.worker.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The sandbox helper ({@code src/main/c/rex-sandbox.c}): one small static binary that sets up
 * every layer of an action's sandbox and then runs its command, built with the worker and
 * carried in its jar. {@link #install} puts it where it can be executed.
 */
public final class SandboxHelper {
  static final String RESOURCE = "rex-sandbox";

  private SandboxHelper() {}

  /**
   * Ends a helper that lives while its stdin is open (the fork server, a network namespace's
   * holder): closes it, waits a little, then kills.
   */
  static void endByClosingStdin(Process helper) {
    try {
      helper.getOutputStream().close();
      if (!helper.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
        helper.destroyForcibly();
      }
    } catch (IOException e) {
      helper.destroyForcibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      helper.destroyForcibly();
    }
  }

  /**
   * Copies the helper out of the jar into {@code folder} (made if needed), readable and runnable
   * by all, writable by none, replacing an older copy; returns its path.
   *
   * @throws IOException when this build of the worker carries no helper, or it cannot be written
   */
  public static Path install(Path folder) throws IOException {
    try (InputStream binary = SandboxHelper.class.getResourceAsStream(RESOURCE)) {
      if (binary == null) {
        throw new IOException("this worker was built without its sandbox helper (the build needs gcc)");
      }
      Files.createDirectories(folder);
      Path target = folder.resolve(RESOURCE);
      Path tmp = Files.createTempFile(folder, RESOURCE, ".tmp");
      try {
        Files.copy(binary, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r-xr-xr-x"));
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
      return target;
    }
  }
}
