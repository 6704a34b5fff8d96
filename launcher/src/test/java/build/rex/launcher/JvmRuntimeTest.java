package build.rex.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JvmRuntimeTest {
  /** A line of -XX:+PrintCompilation: id, attributes, tier, Class::method. */
  private static final Pattern COMPILED = Pattern.compile("^\\s*\\d+\\s+\\d+\\s+[%sbn! ]*\\s([0-4])\\s+(\\S+::\\S+)");

  /** Hot work of both kinds for the JIT: SHA-256 over 256 MiB, and a small method called often. */
  public static final class HotLoops {
    public static void main(String[] args) throws Exception {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] chunk = new byte[1 << 20];
      long sum = 0;
      for (int i = 0; i < 256; i++) {
        sha.update(chunk);
        for (int j = 0; j < 2_000; j++) {
          sum += mix(i, j);
        }
      }
      System.out.println("done " + sha.digest().length + " " + sum);
    }

    static long mix(int a, int b) {
      return (long) a * 31 + (b ^ (b >>> 3));
    }
  }

  @Test
  void aLocalWorkersJvmCompilesSha256WithC2AndTheRestOnlyWithC1(@TempDir Path dir) throws Exception {
    Compiled compiled = runHotLoops(ServerRuntime.Component.WORKER, dir);

    assertTrue(compiled.output.contains("2 compiler directives added"), compiled.output);
    Set<String> byC2 = compiled.atTier("4");
    assertTrue(byC2.stream().anyMatch(method -> method.startsWith("sun.security.provider.SHA2::")), byC2::toString);
    assertTrue(byC2.stream().allMatch(method -> method.startsWith("sun.security.provider.")), byC2::toString);
    // The small hot method is compiled, and by C1 only: at its optimized tier once C2 is refused.
    assertTrue(compiled.atTier("1").contains(HotLoops.class.getName() + "::mix"), compiled.output);
  }

  @Test
  void aLocalSchedulersJvmCompilesEachMethodOnceWithC1(@TempDir Path dir) throws Exception {
    Compiled compiled = runHotLoops(ServerRuntime.Component.SCHEDULER, dir);

    assertTrue(compiled.atTier("1").contains(HotLoops.class.getName() + "::mix"), compiled.output);
    assertTrue(compiled.atTier("1").stream().anyMatch(method -> method.startsWith("sun.security.provider.SHA2::")),
        compiled.output);
    // No profiling tier (2, 3) and no C2 (4): every compiled method went straight to C1's optimized tier.
    for (String tier : List.of("2", "3", "4")) {
      assertEquals(Set.of(), compiled.atTier(tier), "tier " + tier);
    }
  }

  /** What one JVM with a local server's flags compiled, by tier, while running {@link HotLoops}. */
  private record Compiled(String output, List<String[]> lines) {
    Set<String> atTier(String tier) {
      Set<String> methods = new TreeSet<>();
      lines.stream().filter(line -> line[0].equals(tier)).forEach(line -> methods.add(line[1]));
      return methods;
    }
  }

  private static Compiled runHotLoops(ServerRuntime.Component component, Path dir) throws Exception {
    List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java")));
    command.addAll(JvmRuntime.flags(component));
    command.addAll(JvmRuntime.jitFlags(component, dir.resolve(JvmRuntime.JIT_DIRECTIVES_FILE)));
    command.addAll(List.of("-XX:+PrintCompilation", "-cp", System.getProperty("java.class.path"),
        HotLoops.class.getName()));
    Path out = dir.resolve("out.txt");
    Process jvm = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    assertEquals(0, jvm.waitFor(), () -> read(out));
    String output = read(out);
    assertTrue(output.contains("done 32 "), output);
    List<String[]> lines = new ArrayList<>();
    for (String line : output.split("\n")) {
      Matcher m = COMPILED.matcher(line);
      if (m.find()) {
        lines.add(new String[] {m.group(1), m.group(2)});
      }
    }
    return new Compiled(output, lines);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return e.toString();
    }
  }
}
