package build.rex.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * Class data sharing for one server JVM of {@code rex local}: the classes a server loads, parsed
 * and verified once, then mapped from a file by every later start. The first start of a jar
 * writes the archive when its JVM exits (so it holds what a build loaded, not only what start-up
 * did), into a file of its own; the launcher publishes it under the archive's name once the JVM
 * is gone, so concurrent clusters never read a half-written archive. Measured on 2 cores: a
 * scheduler is healthy after 0.5-0.6 s and 0.7 s of CPU with the archive, 0.8-0.9 s and 1.1 s
 * without; the start that writes it pays about 0.8 s more.
 *
 * <p>The archive's name holds the Java runtime and the size and time of every jar on the class
 * path: a rebuilt jar or
 * another JDK writes a new archive instead of being refused by the one there is (the JVM would
 * then run without sharing, and say so in the log), and publishing one removes the stale ones of
 * that jar and runtime.
 */
final class ClassDataArchive {
  /** Longer than any JVM takes to write its archive: a pending file this old was abandoned. */
  private static final Duration ABANDONED = Duration.ofMinutes(10);

  private final Path archive;
  private final String stalePrefix;
  private final Path pending;

  private ClassDataArchive(Path archive, String stalePrefix, Path pending) {
    this.archive = archive;
    this.stalePrefix = stalePrefix;
    this.pending = pending;
  }

  /**
   * The archive of {@code jar} for the running JDK, kept beside the jar; {@code writer} names the
   * server that would write it, unique among the servers this launcher runs.
   */
  static ClassDataArchive of(Path jar, String writer) throws IOException {
    String jarName = jar.getFileName().toString().replaceFirst("\\.jar$", "");
    String runtime = jarName + "-" + shortHash(System.getProperty("java.home") + "|" + System.getProperty("java.vm.version"));
    Path archive = jar.resolveSibling(runtime + "-" + shortHash(classPathStamp(jar)) + ".jsa");
    Path pending = archive.resolveSibling(archive.getFileName() + "." + ProcessHandle.current().pid() + "." + writer + ".tmp");
    return new ClassDataArchive(archive, runtime + "-", pending);
  }

  /** The JVM flags: map the archive when there is one, otherwise write it at exit. */
  List<String> flags() {
    if (Files.isReadable(archive)) {
      return List.of("-XX:SharedArchiveFile=" + archive);
    }
    try {
      Files.deleteIfExists(pending);
    } catch (IOException e) {
      // the JVM overwrites it
    }
    return List.of("-XX:ArchiveClassesAtExit=" + pending);
  }

  /**
   * Called once the JVM has exited: publishes the archive it wrote, if it wrote one (a killed
   * JVM writes none), and removes stale archives of the same jar and runtime.
   */
  void publish() throws IOException {
    if (!Files.isRegularFile(pending)) {
      return;
    }
    Files.move(pending, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    FileTime abandoned = FileTime.from(Instant.now().minus(ABANDONED));
    try (DirectoryStream<Path> siblings = Files.newDirectoryStream(archive.getParent(), stalePrefix + "*")) {
      for (Path sibling : siblings) {
        String name = sibling.getFileName().toString();
        boolean stale = name.endsWith(".jsa") && !sibling.equals(archive);
        boolean leftOver = name.endsWith(".tmp") && Files.getLastModifiedTime(sibling).compareTo(abandoned) < 0;
        if (stale || leftOver) {
          Files.deleteIfExists(sibling);
        }
      }
    }
  }

  /**
   * The size and time of the jar and of every jar its manifest puts on the class path: the JVM
   * refuses an archive when any of them changed.
   */
  private static String classPathStamp(Path jar) throws IOException {
    StringBuilder stamp = new StringBuilder();
    List<Path> jars = new java.util.ArrayList<>(List.of(jar));
    try (java.util.jar.JarFile file = new java.util.jar.JarFile(jar.toFile())) {
      java.util.jar.Manifest manifest = file.getManifest();
      String classPath = manifest == null ? null : manifest.getMainAttributes().getValue("Class-Path");
      if (classPath != null) {
        for (String entry : classPath.trim().split("\\s+")) {
          jars.add(jar.resolveSibling(entry));
        }
      }
    }
    for (Path each : jars) {
      if (Files.exists(each)) {
        stamp.append(each).append('|').append(Files.size(each)).append('|').append(Files.getLastModifiedTime(each).toMillis()).append('\n');
      }
    }
    return stamp.toString();
  }

  Path archive() {
    return archive;
  }

  private static String shortHash(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
