package build.rex.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassDataArchiveTest {
  /** The program in the jar: loads a class of its own beside its main class. */
  public static final class Program {
    public static void main(String[] args) {
      System.out.println("program ran " + new Helper().name());
    }
  }

  public static final class Helper {
    String name() {
      return "helper";
    }
  }

  @Test
  void theFirstRunWritesTheArchiveAndLaterRunsMapTheirClassesFromIt(@TempDir Path dir) throws Exception {
    Path jar = writeJar(dir.resolve("app.jar"));
    ClassDataArchive first = ClassDataArchive.of(jar, "server-0");
    List<String> flags = first.flags();
    assertTrue(flags.get(0).startsWith("-XX:ArchiveClassesAtExit="), flags::toString);
    run(jar, flags);
    assertFalse(Files.exists(first.archive()), "published only once the JVM has exited and publish is called");
    first.publish();
    assertTrue(Files.isRegularFile(first.archive()));
    assertEquals(List.of(first.archive()), filesIn(dir, ".jsa", ".tmp"), "the pending file was moved, not copied");

    ClassDataArchive later = ClassDataArchive.of(jar, "server-0");
    assertEquals(List.of("-XX:SharedArchiveFile=" + first.archive()), later.flags());
    // -Xshare:on makes the JVM fail rather than run without the archive.
    List<String> mapped = new ArrayList<>(later.flags());
    mapped.addAll(List.of("-Xshare:on", "-Xlog:class+load=info"));
    String output = run(jar, mapped);
    assertTrue(output.lines().anyMatch(line -> line.contains(Helper.class.getName() + " source: shared objects file")),
        output);
  }

  @Test
  void aRebuiltJarGetsANewArchiveAndTheStaleOneIsRemoved(@TempDir Path dir) throws Exception {
    Path jar = writeJar(dir.resolve("app.jar"));
    ClassDataArchive old = ClassDataArchive.of(jar, "server-0");
    run(jar, old.flags());
    old.publish();

    Files.setLastModifiedTime(jar, FileTime.from(Instant.now().plusSeconds(60)));
    ClassDataArchive rebuilt = ClassDataArchive.of(jar, "server-0");
    assertNotEquals(old.archive(), rebuilt.archive());
    assertTrue(rebuilt.flags().get(0).startsWith("-XX:ArchiveClassesAtExit="), "the old archive would be refused");
    run(jar, rebuilt.flags());
    rebuilt.publish();
    assertEquals(List.of(rebuilt.archive()), filesIn(dir, ".jsa", ".tmp"));
  }

  @Test
  void aJvmKilledBeforeItExitsPublishesNothing(@TempDir Path dir) throws Exception {
    Path jar = writeJar(dir.resolve("app.jar"));
    ClassDataArchive archive = ClassDataArchive.of(jar, "server-0");
    List<String> command = new ArrayList<>(List.of(java()));
    command.addAll(archive.flags());
    command.addAll(List.of("-cp", jar.toString(), "-XX:+UnlockDiagnosticVMOptions", "-XX:+PauseAtStartup",
        "-XX:PauseAtStartupFile=" + dir.resolve("pause"), Program.class.getName()));
    Files.createFile(dir.resolve("pause"));
    Process paused = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("out").toFile())
        .start();
    paused.destroyForcibly().waitFor();
    archive.publish();
    assertEquals(List.of(), filesIn(dir, ".jsa", ".tmp"));
    assertTrue(archive.flags().get(0).startsWith("-XX:ArchiveClassesAtExit="), "the next start writes it");
  }

  /** The program's two classes in a jar: the JVM archives classes from jars, not folders. */
  private static Path writeJar(Path jar) throws IOException {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, Program.class.getName());
    try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest)) {
      for (Class<?> type : List.of(Program.class, Helper.class)) {
        String entry = type.getName().replace('.', '/') + ".class";
        out.putNextEntry(new JarEntry(entry));
        try (InputStream in = type.getClassLoader().getResourceAsStream(entry)) {
          in.transferTo(out);
        }
        out.closeEntry();
      }
    }
    return jar;
  }

  private static String run(Path jar, List<String> flags) throws Exception {
    List<String> command = new ArrayList<>(List.of(java()));
    command.addAll(flags);
    command.addAll(List.of("-jar", jar.toString()));
    Process jvm = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(jvm.getInputStream().readAllBytes());
    assertEquals(0, jvm.waitFor(), output);
    assertTrue(output.contains("program ran helper"), output);
    return output;
  }

  private static String java() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  private static List<Path> filesIn(Path dir, String... suffixes) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(file -> Stream.of(suffixes).anyMatch(suffix -> file.toString().endsWith(suffix))).sorted()
          .toList();
    }
  }
}
