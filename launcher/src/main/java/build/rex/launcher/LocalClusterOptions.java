package build.rex.launcher;

import java.nio.file.Path;

/** The flags of {@code rex local}, checked. */
record LocalClusterOptions(int port, Path dataDir, int workers, int schedulers, int executors,
    build.rex.config.ByteSize casSize, boolean tls, boolean images, boolean restart) {
  /** One executor per core, as a worker's config has by default. */
  static final int DEFAULT_EXECUTORS = Math.max(1, Runtime.getRuntime().availableProcessors());
  static final int MAX_SCHEDULERS = 4;

  static LocalClusterOptions parse(String[] args) {
    int port = 8980;
    Path dataDir = Path.of(".rex-local");
    int workers = 1;
    int schedulers = 1;
    int executors = DEFAULT_EXECUTORS;
    build.rex.config.ByteSize casSize = new build.rex.worker.WorkerConfig().storage.maxSize;
    boolean tls = false;
    boolean images = false;
    boolean restart = false;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (flag.equals("--tls")) {
        tls = true;
        continue;
      }
      if (flag.equals("--images")) {
        images = true;
        continue;
      }
      if (flag.equals("--restart")) {
        restart = true;
        continue;
      }
      String value = flag.contains("=") ? flag.substring(flag.indexOf('=') + 1) : null;
      String name = flag.contains("=") ? flag.substring(0, flag.indexOf('=')) : flag;
      if (value == null) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(name + " needs a value");
        }
        value = args[++i];
      }
      switch (name) {
        case "--port" -> port = number(name, value, 1, 65535 - 100);
        case "--data-dir" -> dataDir = Path.of(value);
        case "--workers" -> workers = number(name, value, 1, 32);
        case "--schedulers" -> schedulers = number(name, value, 1, MAX_SCHEDULERS);
        case "--executors" -> executors = number(name, value, 1, 256);
        case "--cas-size" -> casSize = size(name, value);
        default -> throw new IllegalArgumentException("unknown flag '" + name + "'");
      }
    }
    return new LocalClusterOptions(port, dataDir.toAbsolutePath().normalize(), workers, schedulers, executors, casSize,
        tls, images, restart);
  }

  /** A CAS must hold at least a few blobs of a build: below 16 MiB nothing useful fits. */
  private static build.rex.config.ByteSize size(String flag, String value) {
    build.rex.config.ByteSize size;
    try {
      size = build.rex.config.ByteSize.parse(value);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(flag + " must be a size such as 512Mi or 20Gi, got '" + value + "'");
    }
    if (size.bytes() < 16L << 20) {
      throw new IllegalArgumentException(flag + " must be at least 16Mi, got '" + value + "'");
    }
    return size;
  }

  private static int number(String flag, String value, int min, int max) {
    try {
      int n = Integer.parseInt(value);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(flag + " must be a whole number from " + min + " to " + max + ", got '" + value + "'");
  }

  /** Alone, the scheduler takes the client port itself; several sit behind the balancer there. */
  int schedulerGrpcPort(int index) {
    return schedulers == 1 ? port : port + 2 + 2 * index;
  }

  int schedulerAdminPort(int index) {
    return schedulers == 1 ? port + 1 : port + 3 + 2 * index;
  }

  /** Where workers and the other schedulers reach scheduler {@code index}. */
  int schedulerInternalPort(int index) {
    return port + 80 + index;
  }

  int workerGrpcPort(int index) {
    return port + 10 + 2 * index;
  }

  int workerAdminPort(int index) {
    return port + 11 + 2 * index;
  }
}
