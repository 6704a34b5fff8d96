package build.rex.operator.resources;

import java.util.LinkedHashMap;
import java.util.Map;

/** The recommended Kubernetes labels on everything the operator makes. */
public final class Labels {
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String OPERATOR = "rex-operator";
  /** Informers watch only what carries it. */
  public static final String MANAGED_SELECTOR = MANAGED_BY + "=" + OPERATOR;
  public static final String SCHEDULER = "scheduler";
  public static final String WORKER = "worker";
  public static final String COMPONENT = "app.kubernetes.io/component";

  private Labels() {}

  /** All labels of a component's objects. */
  public static Map<String, String> of(ClusterNames names, String component) {
    Map<String, String> labels = new LinkedHashMap<>(selector(names, component));
    labels.put(MANAGED_BY, OPERATOR);
    return labels;
  }

  /** The labels that pick out a component's pods (immutable in Deployments and StatefulSets). */
  public static Map<String, String> selector(ClusterNames names, String component) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("app.kubernetes.io/name", "rex");
    labels.put("app.kubernetes.io/instance", names.cluster());
    labels.put(COMPONENT, component);
    return labels;
  }
}
