package build.rex.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;

/** What this machine can do at best, measured in the same run as rex: the baselines of the ratios. */
final class MachineLimits {
  private static final int CHUNK = 1 << 20;

  private MachineLimits() {}

  /** SHA-256 over {@code bytes} of {@code pattern}, in MiB/s: every byte a CAS takes in is hashed once. */
  static double sha256MiBps(byte[] pattern, long bytes) {
    MessageDigest hasher = build.rex.storage.Digests.newHasher();
    long start = System.nanoTime();
    for (long done = 0; done < bytes; done += CHUNK) {
      hasher.update(pattern, (int) (done % pattern.length), CHUNK);
    }
    hasher.digest();
    return bytes / (1024.0 * 1024.0) / ((System.nanoTime() - start) / 1e9);
  }

  /**
   * Writes {@code bytes} to a new file in {@code dir} and forces them to the disk before it counts
   * the time, as the worker does with a blob before it acknowledges it (storage.fsync, the default).
   */
  static double fsyncedWriteMiBps(Path dir, byte[] pattern, long bytes) throws IOException {
    Path file = Files.createTempFile(dir, "disk-baseline", ".bin");
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE)) {
      long start = System.nanoTime();
      for (long done = 0; done < bytes; done += CHUNK) {
        ByteBuffer chunk = ByteBuffer.wrap(pattern, (int) (done % pattern.length), CHUNK);
        while (chunk.hasRemaining()) {
          out.write(chunk);
        }
      }
      out.force(true);
      return bytes / (1024.0 * 1024.0) / ((System.nanoTime() - start) / 1e9);
    } finally {
      Files.delete(file);
    }
  }
}
