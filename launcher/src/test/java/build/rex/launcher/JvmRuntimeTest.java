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
  void aLocalServersJvmCompilesSha256WithC2AndTheRestOnlyWithC1(@TempDir Path dir) throws Exception {
    List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java")));
    command.addAll(JvmRuntime.flags(ServerRuntime.Component.WORKER));
    command.addAll(JvmRuntime.jitFlags(dir.resolve(JvmRuntime.JIT_DIRECTIVES_FILE)));
    command.addAll(List.of("-XX:+PrintCompilation", "-cp", System.getProperty("java.class.path"),
        HotLoops.class.getName()));
    Path out = dir.resolve("out.txt");
    Process jvm = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    assertEquals(0, jvm.waitFor(), () -> read(out));
    String output = read(out);

    assertTrue(output.contains("2 compiler directives added"), output);
    assertTrue(output.contains("done 32 "), output);
    Set<String> byC2 = new TreeSet<>();
    Set<String> ours = new TreeSet<>();
    for (String line : output.split("\n")) {
      Matcher m = COMPILED.matcher(line);
      if (m.find()) {
        if (m.group(1).equals("4")) {
          byC2.add(m.group(2));
        }
        if (m.group(2).startsWith(HotLoops.class.getName())) {
          ours.add(m.group(1) + " " + m.group(2));
        }
      }
    }
    assertTrue(byC2.stream().anyMatch(method -> method.startsWith("sun.security.provider.SHA2::")), byC2::toString);
    assertTrue(byC2.stream().allMatch(method -> method.startsWith("sun.security.provider.")), byC2::toString);
    // The small hot method is compiled, and by C1 only: at its optimized tier once C2 is refused.
    assertTrue(ours.contains("1 " + HotLoops.class.getName() + "::mix"), ours::toString);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return e.toString();
    }
  }
}
