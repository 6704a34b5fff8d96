package build.rex.worker.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Process isolation for actions, as strong as the container allows. Each layer is probed once
 * at start and used only where the kernel permits it; what is missing is logged.
 *
 * <p>A command runs as {@code sh (sets rlimits: no core files, open-file limit; joins the
 * action's cgroup) -> setpriv (killed when the worker dies) -> unshare (new PID and mount
 * namespaces, and a network namespace unless the action may use the network) -> setpriv (an
 * unprivileged user, no new privileges) -> the program}. When the PID namespace's first
 * process dies, the kernel kills all the rest.
 */
public final class Sandbox {
  private static final Logger log = LoggerFactory.getLogger(Sandbox.class);
  /** Joins the cgroups named before "--", then runs what follows; rlimits are set before it. */
  private static final String JOIN_CGROUPS =
      "while [ \"$1\" != -- ]; do echo $$ > \"$1/cgroup.procs\" || exit 125; shift; done; shift; exec \"$@\"";

  /** What the sandbox should do. */
  public record Settings(boolean enabled, String user, int pidsLimit, int openFilesLimit, Path cgroupRoot) {}

  /** What one action may use. 0 means no limit. */
  public record Limits(double cpus, long memoryBytes, boolean network) {}

  private final Settings settings;
  private final Map<String, String> unavailable = new LinkedHashMap<>();
  private final List<String> available = new ArrayList<>();
  private int uid = -1;
  private int gid = -1;

  private Sandbox(Settings settings) {
    this.settings = settings;
  }

  /** Finds out which layers work here and logs it. */
  public static Sandbox probe(Settings settings) {
    Sandbox sandbox = new Sandbox(settings);
    if (!settings.enabled()) {
      sandbox.unavailable.put("all layers", "sandbox disabled in the config");
    } else {
      sandbox.check("pid+mount namespaces", List.of("/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--mount",
          "--mount-proc", "true"));
      sandbox.check("network namespace", List.of("/usr/bin/unshare", "--net", "true"));
      sandbox.check("killed with the worker", List.of("/usr/bin/setpriv", "--pdeathsig", "KILL", "true"));
      sandbox.probeUser();
      sandbox.check("rlimits", List.of("/bin/sh", "-c", sandbox.rlimits(true)));
      if (ActionCgroup.available(settings.cgroupRoot())) {
        sandbox.available.add("cgroups");
      } else {
        sandbox.unavailable.put("cgroups", "cannot create cgroups under " + settings.cgroupRoot());
      }
    }
    log.info("sandbox layers in use: {}; not available: {}", sandbox.available, sandbox.unavailable);
    return sandbox;
  }

  private void probeUser() {
    if (!"root".equals(System.getProperty("user.name"))) {
      unavailable.put("unprivileged user", "the worker does not run as root, so actions run as its own user");
      return;
    }
    try {
      uid = Integer.parseInt(output(List.of("id", "-u", settings.user())));
      gid = Integer.parseInt(output(List.of("id", "-g", settings.user())));
    } catch (IOException | RuntimeException e) {
      unavailable.put("unprivileged user", "user '" + settings.user() + "' does not exist");
      return;
    }
    check("unprivileged user", List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups",
        "--no-new-privs", "true"));
    if (!available.contains("unprivileged user")) {
      uid = -1;
      gid = -1;
    }
  }

  private void check(String layer, List<String> probe) {
    try {
      Process process = new ProcessBuilder(probe).redirectErrorStream(true).start();
      if (process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0) {
        available.add(layer);
      } else {
        unavailable.put(layer, new String(process.getInputStream().readAllBytes()).trim());
      }
    } catch (IOException | InterruptedException e) {
      unavailable.put(layer, e.toString());
    }
  }

  private static String output(List<String> command) throws IOException {
    try {
      Process process = new ProcessBuilder(command).start();
      String out = new String(process.getInputStream().readAllBytes()).trim();
      if (process.waitFor() != 0) {
        throw new IOException(String.join(" ", command) + " failed");
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  /**
   * Drops the unprivileged-user layer if that user cannot reach {@code folder} (every parent
   * needs o+x), saying so, rather than failing every action.
   */
  public Sandbox requireAccess(Path folder) {
    if (uid < 0) {
      return this;
    }
    check("access to " + folder, List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups",
        "/bin/sh", "-c", "cd \"$0\"", folder.toString()));
    if (!available.remove("access to " + folder)) {
      unavailable.remove("access to " + folder);
      available.remove("unprivileged user");
      unavailable.put("unprivileged user", "user " + settings.user() + " cannot reach " + folder
          + "; make its parent folders traversable (chmod o+x)");
      uid = -1;
      gid = -1;
      log.warn("sandbox: actions run as the worker's user: {}", unavailable.get("unprivileged user"));
    }
    return this;
  }

  public List<String> availableLayers() {
    return List.copyOf(available);
  }

  /** Layers that could not be used here, with the reason. */
  public Map<String, String> unavailableLayers() {
    return Map.copyOf(unavailable);
  }

  /** The user id actions run as, or -1 when they run as the worker's own user. */
  public int uid() {
    return uid;
  }

  public int gid() {
    return gid;
  }

  /** A command wrapped in the sandbox, and the cgroup it runs in (null without cgroups). */
  public record Prepared(List<String> argv, ActionCgroup cgroup) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      if (cgroup != null) {
        cgroup.close();
      }
    }
  }

  /**
   * Shell builtins that set the rlimits (inherited by everything the action starts): no core
   * files, an open-file limit, and, without a pids cgroup, a process limit (counted per user,
   * so only a fallback).
   */
  private String rlimits(boolean processLimit) {
    return "ulimit -c 0 && ulimit -n " + settings.openFilesLimit()
        + (processLimit ? " && ulimit -p " + settings.pidsLimit() : "");
  }

  /**
   * Wraps {@code argv} (whose program is an absolute path) in every available layer. The first
   * process is a shell that sets the rlimits and joins the cgroup with builtins, which saves
   * starting one more program per action.
   */
  public Prepared prepare(String id, List<String> argv, Limits limits) throws IOException {
    List<String> wrapped = new ArrayList<>();
    ActionCgroup cgroup = null;
    if (available.contains("cgroups")) {
      cgroup = ActionCgroup.create(settings.cgroupRoot(), id, limits.cpus(), limits.memoryBytes(), settings.pidsLimit());
    }
    if (cgroup != null || available.contains("rlimits")) {
      String script = (available.contains("rlimits") ? rlimits(cgroup == null) + " || exit 125; " : "") + JOIN_CGROUPS;
      wrapped.addAll(List.of("/bin/sh", "-c", script, "rex-sandbox"));
      if (cgroup != null) {
        cgroup.folders().forEach(folder -> wrapped.add(folder.toString()));
      }
      wrapped.add("--");
    }
    if (available.contains("killed with the worker")) {
      // If the worker dies, the kernel kills this process, and with it the PID namespace below.
      wrapped.addAll(List.of("/usr/bin/setpriv", "--pdeathsig", "KILL"));
    }
    if (available.contains("pid+mount namespaces")) {
      wrapped.addAll(List.of("/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--mount", "--mount-proc"));
      if (!limits.network() && available.contains("network namespace")) {
        wrapped.add("--net");
      }
      wrapped.add("--");
    }
    if (uid >= 0) {
      wrapped.addAll(List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--no-new-privs"));
    }
    wrapped.addAll(argv);
    return new Prepared(wrapped, cgroup);
  }

  /** Lets the sandbox user write into the exec root's folders (its files stay read-only). */
  public void handOver(Path execRoot) throws IOException {
    if (uid < 0) {
      return;
    }
    try (var folders = Files.walk(execRoot)) {
      // Never through symlinks, which may point at folders that are not the action's.
      for (Path folder : folders.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
        Files.setAttribute(folder, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(folder, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
      }
    }
  }
}
