package build.rex.launcher;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** How {@code rex local} runs a server: a JVM on this machine, or the server's container image. */
interface ServerRuntime {
  /** "scheduler" or "worker". */
  enum Component {
    SCHEDULER("scheduler"), WORKER("worker");

    final String id;

    Component(String id) {
      this.id = id;
    }
  }

  /** The command that runs {@code component} named {@code name} with the given config file. */
  List<String> command(Component component, String name, Path config) throws IOException;

  /** Environment variables the command needs on top of the launcher's own. */
  Map<String, String> environment();

  /** Called after the command for {@code name} was killed, to stop whatever it had started. */
  void killed(String name);

  /** Called once the command for {@code name} has exited, however it ended; may be called again. */
  default void exited(String name) {
  }
}
