package build.rex.operator;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SeccompProfile;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The Pod Security Standards' "baseline" and "restricted" policies, written from the published
 * list of controls (kubernetes.io/docs/concepts/security/pod-security-standards, v1.31): a pod
 * spec's violations, each in the words of its control.
 */
final class PodSecurityStandards {
  enum Level { BASELINE, RESTRICTED }

  private static final Set<String> BASELINE_CAPABILITIES = Set.of("AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER",
      "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT");
  private static final Set<String> SAFE_SYSCTLS = Set.of("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
      "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
      "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
      "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes");
  private static final Set<String> RESTRICTED_VOLUMES = Set.of("configMap", "csi", "downwardAPI", "emptyDir",
      "ephemeral", "persistentVolumeClaim", "projected", "secret");

  private PodSecurityStandards() {}

  static List<String> violations(PodSpec pod, Level level) {
    List<String> found = new ArrayList<>();
    PodSecurityContext podContext = pod.getSecurityContext();
    List<Container> containers = Stream.of(pod.getContainers(), pod.getInitContainers())
        .filter(java.util.Objects::nonNull).flatMap(List::stream).toList();
    // Baseline controls.
    check(found, !Boolean.TRUE.equals(pod.getHostNetwork()) && !Boolean.TRUE.equals(pod.getHostPID())
        && !Boolean.TRUE.equals(pod.getHostIPC()), "Host Namespaces: hostNetwork, hostPID and hostIPC must be unset or false");
    for (Volume volume : pod.getVolumes()) {
      check(found, volume.getHostPath() == null, "HostPath Volumes: volume " + volume.getName() + " is a hostPath");
    }
    if (podContext != null) {
      check(found, podContext.getSysctls() == null || podContext.getSysctls().stream()
          .allMatch(sysctl -> SAFE_SYSCTLS.contains(sysctl.getName())), "Sysctls: only the safe set");
      seccompNotUnconfined(found, podContext.getSeccompProfile(), "the pod");
      check(found, podContext.getWindowsOptions() == null || !Boolean.TRUE.equals(podContext.getWindowsOptions().getHostProcess()),
          "HostProcess: must not be set");
    }
    for (Container container : containers) {
      SecurityContext context = container.getSecurityContext();
      String name = "container " + container.getName();
      check(found, container.getPorts() == null || container.getPorts().stream()
          .allMatch(port -> port.getHostPort() == null || port.getHostPort() == 0), "Host Ports: " + name + " uses a hostPort");
      if (context == null) {
        continue;
      }
      check(found, !Boolean.TRUE.equals(context.getPrivileged()), "Privileged Containers: " + name + " is privileged");
      Capabilities capabilities = context.getCapabilities();
      List<String> added = capabilities == null || capabilities.getAdd() == null ? List.of() : capabilities.getAdd();
      for (String capability : added) {
        check(found, BASELINE_CAPABILITIES.contains(capability), "Capabilities: " + name + " adds " + capability);
      }
      check(found, context.getProcMount() == null || "Default".equals(context.getProcMount()), "/proc Mount Type: " + name);
      seccompNotUnconfined(found, context.getSeccompProfile(), name);
      check(found, context.getAppArmorProfile() == null || !"Unconfined".equals(context.getAppArmorProfile().getType()),
          "AppArmor: " + name + " is unconfined");
    }
    if (level == Level.BASELINE) {
      return found;
    }
    // Restricted controls, on top.
    for (Volume volume : pod.getVolumes()) {
      Map<String, Object> fields = io.fabric8.kubernetes.client.utils.Serialization.jsonMapper()
          .convertValue(volume, new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() {});
      check(found, fields.keySet().stream().filter(key -> !key.equals("name")).allMatch(RESTRICTED_VOLUMES::contains),
          "Volume Types: volume " + volume.getName() + " is of a type restricted pods may not use");
    }
    boolean podNonRoot = podContext != null && Boolean.TRUE.equals(podContext.getRunAsNonRoot());
    boolean podSeccomp = podContext != null && confined(podContext.getSeccompProfile());
    check(found, podContext == null || podContext.getRunAsUser() == null || podContext.getRunAsUser() != 0,
        "Running as Non-root user: the pod sets runAsUser 0");
    for (Container container : containers) {
      SecurityContext context = container.getSecurityContext();
      String name = "container " + container.getName();
      check(found, context != null && Boolean.FALSE.equals(context.getAllowPrivilegeEscalation()),
          "Privilege Escalation: " + name + " must set allowPrivilegeEscalation false");
      check(found, podNonRoot && (context == null || !Boolean.FALSE.equals(context.getRunAsNonRoot()))
          || context != null && Boolean.TRUE.equals(context.getRunAsNonRoot()),
          "Running as Non-root: " + name + " must run with runAsNonRoot true");
      check(found, context == null || context.getRunAsUser() == null || context.getRunAsUser() != 0,
          "Running as Non-root user: " + name + " sets runAsUser 0");
      check(found, podSeccomp && (context == null || context.getSeccompProfile() == null || confined(context.getSeccompProfile()))
          || context != null && confined(context.getSeccompProfile()),
          "Seccomp: " + name + " must use RuntimeDefault or Localhost");
      Capabilities capabilities = context == null ? null : context.getCapabilities();
      check(found, capabilities != null && capabilities.getDrop() != null && capabilities.getDrop().contains("ALL"),
          "Capabilities: " + name + " must drop ALL");
      List<String> added = capabilities == null || capabilities.getAdd() == null ? List.of() : capabilities.getAdd();
      check(found, added.stream().allMatch("NET_BIND_SERVICE"::equals), "Capabilities: " + name + " may add only NET_BIND_SERVICE");
    }
    return found;
  }

  private static void seccompNotUnconfined(List<String> found, SeccompProfile profile, String who) {
    check(found, profile == null || !"Unconfined".equals(profile.getType()), "Seccomp: " + who + " is Unconfined");
  }

  private static boolean confined(SeccompProfile profile) {
    return profile != null && ("RuntimeDefault".equals(profile.getType()) || "Localhost".equals(profile.getType()));
  }

  private static void check(List<String> found, boolean ok, String violation) {
    if (!ok) {
      found.add(violation);
    }
  }
}
