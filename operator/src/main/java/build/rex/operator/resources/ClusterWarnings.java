package build.rex.operator.resources;

import build.rex.operator.api.RemoteExecutionCluster;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.util.LinkedHashMap;
import java.util.Map;

/** Problems a dependent met but worked around in one reconciliation, by reason: reported as Events after it. */
public final class ClusterWarnings {
  private static final String KEY = ClusterWarnings.class.getName();
  private final Map<String, String> warnings = new LinkedHashMap<>();

  public static ClusterWarnings attachTo(Context<RemoteExecutionCluster> context) {
    ClusterWarnings warnings = new ClusterWarnings();
    context.managedWorkflowAndDependentResourceContext().put(KEY, warnings);
    return warnings;
  }

  public static ClusterWarnings of(Context<RemoteExecutionCluster> context) {
    return context.managedWorkflowAndDependentResourceContext().getMandatory(KEY, ClusterWarnings.class);
  }

  public synchronized void add(String reason, String message) {
    warnings.put(reason, message);
  }

  public synchronized Map<String, String> all() {
    return Map.copyOf(warnings);
  }
}
