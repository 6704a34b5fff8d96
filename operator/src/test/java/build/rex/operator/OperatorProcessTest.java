package build.rex.operator;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code bin/rex operator} runs (OperatorMain), as its own JVM; see {@link OperatorRunScenario}. */
class OperatorProcessTest {
  @TempDir
  Path dir;

  @Test
  void theOperatorProcessRunsAgainstTheCurrentKubeconfig() throws Exception {
    OperatorRunScenario.verify(dir, (kubeconfig, config, log) -> {
      ProcessBuilder builder = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), OperatorMain.class.getName(), "--config", config.toString()))
          .redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().put("KUBECONFIG", kubeconfig.toString());
      return builder.start();
    });
  }
}
