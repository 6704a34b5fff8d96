package build.rex.launcher;

import java.util.Arrays;

/** Entry point of {@code bin/rex}. */
public final class RexCommand {
  private RexCommand() {}

  static final String USAGE = """
      usage: rex local [--port PORT] [--data-dir DIR] [--workers N] [--executors N] [--cas-size SIZE]
                       [--schedulers N] [--tls] [--images] [--restart]
        Starts a local rex cluster on 127.0.0.1: separate scheduler and worker processes.
        The processes talk to each other over mutual TLS with certificates made in DIR/tls.
        --port PORT      client gRPC port (default 8980); the processes' own ports follow it
        --data-dir DIR   where workers keep their CAS and Action Cache (default .rex-local)
        --workers N      number of worker processes, 1 to 32 (default 1); each blob is kept on 2
        --executors N    executors on each worker, actions it runs at once (default: one per core)
        --cas-size SIZE  bytes of blobs each worker keeps, e.g. 512Mi or 20Gi (default 10Gi);
                         older blobs are evicted beyond it
        --schedulers N   number of scheduler processes, 1 to 4 (default 1); with more than one,
                         a load balancer on PORT spreads client connections over them
        --tls            serve clients over TLS and let in only those with the client
                         certificate or the bearer token made in DIR/tls (default: plaintext
                         on loopback, open to every local user)
        --images         run the scheduler and worker container images (built where podman
                         is installed, see docs/images.md) under podman instead of JVMs here
        --restart        start a process that exits unexpectedly again, on the same ports and
                         data, as Kubernetes restarts a pod (default: carry on without it)
      usage: rex operator [--config operator.yaml]
        Runs the Kubernetes operator on this machine against the current kubeconfig context
        (see docs/operator.md).
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
