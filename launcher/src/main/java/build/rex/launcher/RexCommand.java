package build.rex.launcher;

import java.util.Arrays;

/** Entry point of {@code bin/rex}. */
public final class RexCommand {
  private RexCommand() {}

  static final String USAGE = """
      usage: rex local [--port PORT] [--data-dir DIR] [--workers N] [--schedulers N]
        Starts a local rex cluster on 127.0.0.1: separate scheduler and worker processes.
        --port PORT      client gRPC port of the scheduler (default 8980); other ports follow it
        --data-dir DIR   where workers keep their CAS and Action Cache (default .rex-local)
        --workers N      number of worker processes (default 1)
        --schedulers N   number of scheduler processes (default 1; more need cluster membership, not built yet)
      """;

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
      System.out.print(USAGE);
      System.exit(args.length == 0 ? 2 : 0);
    }
    if (!args[0].equals("local")) {
      System.err.println("rex: unknown command '" + args[0] + "'\n" + USAGE);
      System.exit(2);
    }
    LocalClusterOptions options;
    try {
      options = LocalClusterOptions.parse(Arrays.copyOfRange(args, 1, args.length));
    } catch (IllegalArgumentException e) {
      System.err.println("rex local: " + e.getMessage() + "\n" + USAGE);
      System.exit(2);
      return;
    }
    System.exit(new LocalCluster(options).run());
  }
}
