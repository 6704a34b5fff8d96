package build.rex.bench.build;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPU time every process of the machine has used (user, system, interrupts, stolen; not idle
 * or waiting for the disk), from the first line of /proc/stat. A cold build on 2 cores keeps the
 * machine busy: what one server spends more, the build's compilers get less.
 */
final class MachineCpu {
  private MachineCpu() {}

  static double busySeconds() throws IOException {
    String[] fields = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
    // cpu user nice system idle iowait irq softirq steal ...
    long ticks = 0;
    for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
      ticks += Long.parseLong(fields[i]);
    }
    return ticks / 100.0; // USER_HZ is 100 on Linux
  }

  static int cores() {
    return Runtime.getRuntime().availableProcessors();
  }
}
