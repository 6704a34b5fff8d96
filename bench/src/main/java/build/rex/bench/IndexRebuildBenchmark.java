package build.rex.bench;

import build.rex.config.Logging;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * How long a worker takes to rebuild its CAS index from disk on start, for N blobs (default a
 * million), against a plain single-threaded walk that reads the same files' attributes.
 * Usage: {@code java -cp bench/target/rex-bench.jar build.rex.bench.IndexRebuildBenchmark [N]}.
 */
public final class IndexRebuildBenchmark {
  private IndexRebuildBenchmark() {}

  public static void main(String[] args) throws Exception {
    Logging.init("warn");
    int blobs = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    Path root = Files.createTempDirectory("rex-index-bench");
    try {
      long created = System.nanoTime();
      createBlobFiles(root.resolve("cas/sha256"), blobs);
      System.out.printf("created %,d blob files in %.1f s%n", blobs, (System.nanoTime() - created) / 1e9);

      long walkStart = System.nanoTime();
      AtomicLong bytes = new AtomicLong();
      try (Stream<Path> files = Files.walk(root.resolve("cas"))) {
        files.forEach(f -> {
          try {
            bytes.addAndGet(Files.readAttributes(f, BasicFileAttributes.class).size());
          } catch (IOException e) {
            throw new RuntimeException(e);
          }
        });
      }
      double walk = (System.nanoTime() - walkStart) / 1e9;

      long openStart = System.nanoTime();
      DiskBlobStore store = DiskBlobStore.open(root, new DiskStoreSettings(1L << 40, 0.8, 0.9, false));
      double open = (System.nanoTime() - openStart) / 1e9;
      if (store.blobCount() != blobs) {
        throw new IllegalStateException("index holds " + store.blobCount() + " blobs, expected " + blobs);
      }
      System.out.printf("plain walk reading attributes (baseline): %6.2f s%n", walk);
      System.out.printf("DiskBlobStore.open, %,d blobs:        %6.2f s  ratio %.2f of the walk%n", blobs, open, open / walk);
    } finally {
      try (Stream<Path> files = Files.walk(root)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** Files named like blobs, in the store's layout; their content is not read on start. */
  private static void createBlobFiles(Path casRoot, int count) {
    IntStream.range(0, 256).parallel().forEach(fanOut -> {
      Random random = new Random(fanOut);
      byte[] hash = new byte[32];
      Path dir = casRoot.resolve(String.format("%02x", fanOut));
      try {
        Files.createDirectories(dir);
        for (int i = fanOut; i < count; i += 256) {
          random.nextBytes(hash);
          hash[0] = (byte) fanOut;
          Files.write(dir.resolve(HexFormat.of().formatHex(hash)), new byte[i % 7]);
        }
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
  }
}
