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
 * <p>A command runs under one small helper ({@link SandboxHelper}), which a long-lived copy of
 * it forks for each command ({@link ForkServer}). It sets the rlimits (no core files, an
 * open-file limit), joins the action's cgroup, dies with the worker, makes new PID and mount
 * namespaces, joins its executor's network namespace (unless the action may use the network;
 * see {@link HeldNetworkNamespace}), becomes an unprivileged user with no new privileges, and
 * runs the program as the PID namespace's first process: when it dies, the kernel kills all the
 * rest.
 */
public final class Sandbox implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Sandbox.class);

  /** What the sandbox should do; the helper is installed into {@code helperFolder}. */
  public record Settings(boolean enabled, String user, int pidsLimit, int openFilesLimit, Path cgroupRoot,
      Path helperFolder) {}

  /** What one action may use. 0 means no limit. */
  public record Limits(double cpus, long memoryBytes, boolean network) {}

  private final Settings settings;
  private final Map<String, String> unavailable = new LinkedHashMap<>();
  private final List<String> available = new ArrayList<>();
  private String helper;
  /** Each executor's network namespace, made at its first action that needs one. */
  private final Map<String, HeldNetworkNamespace> networks = new java.util.HashMap<>();
  /** Starts every sandboxed command (made at the first one, again if it died). */
  private ForkServer forkServer;
  private int uid = -1;
  private int gid = -1;

  private Sandbox(Settings settings) {
    this.settings = settings;
  }

  /** Installs the helper, finds out which layers work here and logs it. */
  public static Sandbox probe(Settings settings) {
    Sandbox sandbox = new Sandbox(settings);
    if (!settings.enabled()) {
      sandbox.unavailable.put("all layers", "sandbox disabled in the config");
    } else if (sandbox.installHelper()) {
      sandbox.check("pid+mount namespaces", List.of("--namespaces"));
      sandbox.probeNetwork();
      sandbox.check("killed with the worker", List.of("--pdeathsig"));
      sandbox.probeUser();
      sandbox.check("rlimits", sandbox.rlimits(true));
      if (ActionCgroup.available(settings.cgroupRoot())) {
        sandbox.available.add("cgroups");
      } else {
        sandbox.unavailable.put("cgroups", "cannot create cgroups under " + settings.cgroupRoot());
      }
    }
    log.info("sandbox layers in use: {}; not available: {}", sandbox.available, sandbox.unavailable);
    return sandbox;
  }

  /** A held network namespace, joined by an action: what every action without network does. */
  private void probeNetwork() {
    try (HeldNetworkNamespace probe = HeldNetworkNamespace.create(helper)) {
      List<String> flags = new ArrayList<>(probe.joinFlags());
      flags.add("--namespaces");
      check("network namespace", flags);
    } catch (IOException e) {
      unavailable.put("network namespace", e.getMessage());
    }
  }

  private boolean installHelper() {
    try {
      helper = SandboxHelper.install(settings.helperFolder()).toString();
      return true;
    } catch (IOException e) {
      unavailable.put("all layers", "the sandbox helper cannot be installed in " + settings.helperFolder() + ": "
          + e.getMessage());
      return false;
    }
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
    check("unprivileged user", userFlags());
    if (!available.contains("unprivileged user")) {
      uid = -1;
      gid = -1;
    }
  }

  private List<String> userFlags() {
    return List.of("--uid", Integer.toString(uid), "--gid", Integer.toString(gid));
  }

  /** Runs {@code /bin/true} under the helper with {@code flags}: the layer works if that succeeds. */
  private void check(String layer, List<String> flags) {
    check(layer, flags, List.of("/bin/true"));
  }

  private void check(String layer, List<String> flags, List<String> program) {
    List<String> probe = new ArrayList<>(List.of(helper));
    probe.addAll(flags);
    probe.add("--");
    probe.addAll(program);
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
    check("access to " + folder, userFlags(), List.of("/bin/sh", "-c", "cd \"$0\"", folder.toString()));
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

  /**
   * A command wrapped in the sandbox ({@code argv}: the helper's command line), the cgroup it
   * runs in (null without cgroups), and the fork server that starts it (null without the helper).
   */
  public record Prepared(List<String> argv, ActionCgroup cgroup, ForkServer server) implements AutoCloseable {
    /** Starts the command with exactly {@code environment}, stdin empty, stdout and stderr to files. */
    public SandboxedProcess start(Map<String, String> environment, Path directory, Path stdout, Path stderr)
        throws IOException, InterruptedException {
      if (server != null) {
        return server.start(argv.subList(1, argv.size()), environment, directory, stdout, stderr);
      }
      ProcessBuilder builder = new ProcessBuilder(argv).directory(directory.toFile())
          .redirectInput(new java.io.File("/dev/null")).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
      builder.environment().clear();
      builder.environment().putAll(environment);
      return SandboxedProcess.of(builder.start());
    }

    @Override
    public void close() throws IOException {
      if (cgroup != null) {
        cgroup.close();
      }
    }
  }

  /**
   * No core files (always), an open-file limit, and, without a pids cgroup, a process limit
   * (counted per user, so only a fallback); all inherited by everything the action starts.
   */
  private List<String> rlimits(boolean processLimit) {
    List<String> flags = new ArrayList<>(List.of("--nofile", Integer.toString(settings.openFilesLimit())));
    if (processLimit) {
      flags.addAll(List.of("--nproc", Integer.toString(settings.pidsLimit())));
    }
    return flags;
  }

  /**
   * Wraps {@code argv} (whose program is an absolute path) in every available layer, for a run
   * named {@code id} on {@code executor}: the executor's actions run one after another and
   * share what can be prepared once for them (a network namespace).
   */
  public Prepared prepare(String id, String executor, List<String> argv, Limits limits) throws IOException {
    if (helper == null) {
      return new Prepared(List.copyOf(argv), null, null);
    }
    ActionCgroup cgroup = null;
    if (available.contains("cgroups")) {
      cgroup = ActionCgroup.create(settings.cgroupRoot(), id, limits.cpus(), limits.memoryBytes(), settings.pidsLimit());
    }
    List<String> wrapped = new ArrayList<>(List.of(helper));
    if (available.contains("rlimits")) {
      wrapped.addAll(rlimits(cgroup == null));
    }
    if (cgroup != null) {
      cgroup.folders().forEach(folder -> wrapped.addAll(List.of("--cgroup", folder.toString())));
    }
    if (available.contains("killed with the worker")) {
      // If the worker dies, the kernel kills the helper, and with it the PID namespace below.
      wrapped.add("--pdeathsig");
    }
    if (available.contains("pid+mount namespaces")) {
      wrapped.add("--namespaces");
      if (!limits.network() && available.contains("network namespace")) {
        wrapped.addAll(network(executor).joinFlags());
      }
    }
    if (uid >= 0) {
      wrapped.addAll(userFlags());
    }
    wrapped.add("--");
    wrapped.addAll(argv);
    return new Prepared(wrapped, cgroup, forkServer());
  }

  private synchronized ForkServer forkServer() throws IOException {
    if (forkServer == null || !forkServer.isAlive()) {
      forkServer = ForkServer.start(helper);
    }
    return forkServer;
  }

  private synchronized HeldNetworkNamespace network(String executor) throws IOException {
    HeldNetworkNamespace held = networks.get(executor);
    if (held == null || !held.isAlive()) {
      held = HeldNetworkNamespace.create(helper);
      networks.put(executor, held);
    }
    return held;
  }

  /** Stops the fork server and lets go of the executors' network namespaces. */
  @Override
  public synchronized void close() {
    if (forkServer != null) {
      forkServer.close();
      forkServer = null;
    }
    networks.values().forEach(HeldNetworkNamespace::close);
    networks.clear();
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
