package build.rex.server;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;

/**
 * Ports for servers a test starts on fixed addresses (to restart them at the same address, or to
 * tell one process another's address before it starts). They are chosen below the kernel's
 * ephemeral range: a port in that range that is free now can be taken a moment later by any
 * outgoing connection on the machine, and runs lost a scheduler's port so.
 */
public final class FreePorts {
  private FreePorts() {
  }

  /** The first of {@code count} consecutive ports that are free now. */
  public static int block(int count) throws IOException {
    int below = ephemeralRangeStart();
    for (int attempt = 0; attempt < 50; attempt++) {
      int base = 10000 + (int) (Math.random() * (below - 10000 - count));
      if (IntStream.range(base, base + count).allMatch(FreePorts::isFree)) {
        return base;
      }
    }
    throw new IOException("no " + count + " consecutive free ports found below " + below);
  }

  /** The first port the kernel hands to outgoing connections (Linux's default: 32768). */
  private static int ephemeralRangeStart() {
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
      return Math.max(20000, Integer.parseInt(range.split("\\s+")[0]));
    } catch (IOException | RuntimeException e) {
      return 32768;
    }
  }

  private static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket(port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
