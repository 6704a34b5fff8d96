package build.rex.operator.reconcile;

import build.rex.operator.api.RemoteExecutionClusterStatus;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** The status conditions, in the shape kubectl and other tools expect (metav1.Condition). */
public final class Conditions {
  public static final String READY = "Ready";
  public static final String PROGRESSING = "Progressing";
  public static final String DEGRADED = "Degraded";

  private Conditions() {}

  /** Sets a condition; its transition time moves only when its status changes. */
  public static void set(RemoteExecutionClusterStatus status, String type, boolean value, String reason, String message,
      Long generation) {
    String text = value ? "True" : "False";
    Condition existing = find(status, type);
    String since = existing != null && text.equals(existing.getStatus())
        ? existing.getLastTransitionTime() : Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    status.conditions.removeIf(condition -> type.equals(condition.getType()));
    status.conditions.add(new ConditionBuilder().withType(type).withStatus(text).withReason(reason)
        .withMessage(message).withObservedGeneration(generation).withLastTransitionTime(since).build());
  }

  public static Condition find(RemoteExecutionClusterStatus status, String type) {
    if (status == null || status.conditions == null) {
      return null;
    }
    return status.conditions.stream().filter(condition -> type.equals(condition.getType())).findFirst().orElse(null);
  }
}
