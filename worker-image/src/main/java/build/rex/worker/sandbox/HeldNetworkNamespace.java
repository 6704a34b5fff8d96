package build.rex.worker.sandbox;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A network namespace with only a loopback (down), made once for one executor and joined by
 * each of its actions in turn ({@code rex-sandbox --hold-netns}): an action finds it as empty as
 * a new one, since the actions of an executor run one after another and nothing of one outlives
 * it, but the kernel no longer makes and tears down a namespace for every action. It lasts while
 * its holder's stdin is open: until {@link #close}, or until the worker dies.
 */
final class HeldNetworkNamespace implements AutoCloseable {
  private final Process holder;
  private final Path path;
  private final long inode;

  private HeldNetworkNamespace(Process holder, Path path, long inode) {
    this.holder = holder;
    this.path = path;
    this.inode = inode;
  }

  static HeldNetworkNamespace create(String helper) throws IOException {
    Process holder = new ProcessBuilder(helper, "--hold-netns").redirectErrorStream(true).start();
    try {
      String line = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))
          .readLine();
      if (!"ready".equals(line)) {
        throw new IOException("cannot make a network namespace: " + line);
      }
      Path path = Path.of("/proc", Long.toString(holder.pid()), "ns", "net");
      return new HeldNetworkNamespace(holder, path, ((Number) Files.getAttribute(path, "unix:ino")).longValue());
    } catch (IOException | RuntimeException e) {
      holder.destroyForcibly();
      throw e instanceof IOException io ? io : new IOException(e);
    }
  }

  boolean isAlive() {
    return holder.isAlive();
  }

  /** The helper's flags that join this namespace (the inode guards against a reused pid). */
  List<String> joinFlags() {
    return List.of("--netns", path.toString(), "--netns-inode", Long.toString(inode));
  }

  @Override
  public void close() {
    SandboxHelper.endByClosingStdin(holder);
  }

}
