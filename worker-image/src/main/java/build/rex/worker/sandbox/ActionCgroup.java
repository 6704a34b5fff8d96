package build.rex.worker.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The cgroup of one action: cpu, memory and pids limits, its resource use afterwards, and a way
 * to kill every process in it. Works with cgroup v2 (one unified folder) and v1 (one folder per
 * controller).
 */
public final class ActionCgroup implements AutoCloseable {
  private final boolean unified;
  /** The folders the action's first process joins: one for v2, one per controller for v1. */
  private final List<Path> folders;
  private final Path root;
  private final String name;

  private ActionCgroup(boolean unified, Path root, String name, List<Path> folders) {
    this.unified = unified;
    this.root = root;
    this.name = name;
    this.folders = folders;
  }

  /** Whether cgroups can be made under {@code root} here (needs write access). */
  static boolean available(Path root) {
    try {
      ActionCgroup probe = create(root, "probe-" + ProcessHandle.current().pid(), 0, 0, 0);
      probe.close();
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Makes the cgroup. A limit of 0 means none.
   *
   * @param cpus cpu quota in cores
   */
  static ActionCgroup create(Path root, String name, double cpus, long memoryBytes, int pids) throws IOException {
    boolean unified = Files.exists(root.resolve("cgroup.controllers"));
    if (unified) {
      Path dir = root.resolve("rex").resolve(name);
      Files.createDirectories(dir);
      ActionCgroup group = new ActionCgroup(true, root, name, List.of(dir));
      if (cpus > 0) {
        write(dir.resolve("cpu.max"), (long) (cpus * 100_000) + " 100000");
      }
      if (memoryBytes > 0) {
        write(dir.resolve("memory.max"), Long.toString(memoryBytes));
        write(dir.resolve("memory.swap.max"), "0");
      }
      if (pids > 0) {
        write(dir.resolve("pids.max"), Integer.toString(pids));
      }
      return group;
    }
    List<Path> dirs = new ArrayList<>();
    for (String controller : List.of("memory", "cpu", "cpuacct", "pids")) {
      Path dir = root.resolve(controller).resolve("rex").resolve(name);
      Files.createDirectories(dir);
      dirs.add(dir);
    }
    ActionCgroup group = new ActionCgroup(false, root, name, dirs);
    if (memoryBytes > 0) {
      write(dirs.get(0).resolve("memory.limit_in_bytes"), Long.toString(memoryBytes));
      Path swap = dirs.get(0).resolve("memory.memsw.limit_in_bytes");
      if (Files.exists(swap)) {
        write(swap, Long.toString(memoryBytes));
      }
    }
    if (cpus > 0) {
      write(dirs.get(1).resolve("cpu.cfs_period_us"), "100000");
      write(dirs.get(1).resolve("cpu.cfs_quota_us"), Long.toString((long) (cpus * 100_000)));
    }
    if (pids > 0) {
      write(dirs.get(3).resolve("pids.max"), Integer.toString(pids));
    }
    return group;
  }

  private static void write(Path file, String value) throws IOException {
    Files.writeString(file, value);
  }

  /** The folders whose cgroup.procs the action's first process writes itself into. */
  public List<Path> folders() {
    return folders;
  }

  /** CPU time and peak memory of everything that ran in the cgroup. */
  public ResourceUse usage() {
    try {
      if (unified) {
        Path dir = folders.get(0);
        long userMicros = 0;
        long systemMicros = 0;
        for (String line : Files.readAllLines(dir.resolve("cpu.stat"))) {
          String[] parts = line.split(" ");
          if (parts[0].equals("user_usec")) {
            userMicros = Long.parseLong(parts[1]);
          } else if (parts[0].equals("system_usec")) {
            systemMicros = Long.parseLong(parts[1]);
          }
        }
        Path peak = dir.resolve("memory.peak");
        long peakBytes = Files.exists(peak) ? Long.parseLong(Files.readString(peak).trim()) : 0;
        return new ResourceUse(Duration.ofNanos(userMicros * 1000), Duration.ofNanos(systemMicros * 1000), peakBytes);
      }
      long userTicks = 0;
      long systemTicks = 0;
      for (String line : Files.readAllLines(folders.get(2).resolve("cpuacct.stat"))) {
        String[] parts = line.split(" ");
        if (parts[0].equals("user")) {
          userTicks = Long.parseLong(parts[1]);
        } else if (parts[0].equals("system")) {
          systemTicks = Long.parseLong(parts[1]);
        }
      }
      long peakBytes = Long.parseLong(Files.readString(folders.get(0).resolve("memory.max_usage_in_bytes")).trim());
      // cpuacct.stat counts USER_HZ ticks, 100 per second on Linux.
      return new ResourceUse(Duration.ofMillis(userTicks * 10), Duration.ofMillis(systemTicks * 10), peakBytes);
    } catch (IOException | RuntimeException e) {
      return new ResourceUse(Duration.ZERO, Duration.ZERO, 0);
    }
  }

  /** Whether the memory limit was hit (the kernel killed a process for it). */
  public boolean outOfMemory() {
    try {
      if (unified) {
        for (String line : Files.readAllLines(folders.get(0).resolve("memory.events"))) {
          if (line.startsWith("oom_kill ") && !line.endsWith(" 0")) {
            return true;
          }
        }
        return false;
      }
      for (String line : Files.readAllLines(folders.get(0).resolve("memory.oom_control"))) {
        if (line.startsWith("oom_kill ") && !line.endsWith(" 0")) {
          return true;
        }
      }
      return Long.parseLong(Files.readString(folders.get(0).resolve("memory.failcnt")).trim()) > 0;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** SIGKILLs every process still in the cgroup: no scan of /proc needed. */
  public void killAll() {
    Path procs = (unified ? folders.get(0) : folders.get(3)).resolve("cgroup.procs");
    try {
      for (String pid : Files.readAllLines(procs)) {
        if (!pid.isBlank()) {
          ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(ProcessHandle::destroyForcibly);
        }
      }
    } catch (IOException | RuntimeException e) {
      // the cgroup is already gone
    }
  }

  /** Kills what is left and removes the folders (retrying while the kernel reaps processes). */
  @Override
  public void close() throws IOException {
    IOException last = null;
    for (int attempt = 0; attempt < 50; attempt++) {
      killAll();
      last = null;
      for (Path dir : folders) {
        try {
          Files.deleteIfExists(dir);
        } catch (IOException e) {
          last = e;
        }
      }
      if (last == null) {
        return;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw last;
  }

  @Override
  public String toString() {
    return "cgroup " + name + " under " + root;
  }
}
