package build.rex.operator.resources;

import build.rex.operator.api.RemoteExecutionCluster;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.function.Function;

/**
 * One kind of object the operator keeps for each cluster. JOSDK creates it, compares it with the
 * desired state on every reconciliation (so hand edits are undone), and owns it through an owner
 * reference (so deleting the cluster deletes it). Its informer sees only objects the operator made.
 */
public abstract class ClusterDependent<R extends HasMetadata> extends CRUDKubernetesDependentResource<R, RemoteExecutionCluster> {
  private final String component;
  private final Function<ClusterNames, String> naming;

  protected ClusterDependent(Class<R> type, String component, Function<ClusterNames, String> naming) {
    super(type);
    this.component = component;
    this.naming = naming;
  }

  /** By name: JOSDK would otherwise compute the whole desired object just to learn its name. */
  @Override
  protected ResourceID targetSecondaryResourceID(RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    return new ResourceID(naming.apply(ClusterNames.of(primary)), primary.getMetadata().getNamespace());
  }

  @Override
  protected InformerEventSourceConfiguration.Builder<R> informerConfigurationBuilder(
      EventSourceContext<RemoteExecutionCluster> context) {
    return super.informerConfigurationBuilder(context).withLabelSelector(Labels.MANAGED_SELECTOR);
  }

  @Override
  protected final R desired(RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    return desired(ClusterPlan.of(context), primary, context);
  }

  protected abstract R desired(ClusterPlan plan, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context);

  @Override
  public R create(R desired, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    record(context, "created", desired);
    return super.create(desired, primary, context);
  }

  @Override
  public R update(R actual, R desired, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    record(context, "updated", desired);
    return super.update(actual, desired, primary, context);
  }

  /** Deleted by the workflow when its condition no longer holds (e.g. NetworkPolicies turned off). */
  @Override
  protected void handleDelete(RemoteExecutionCluster primary, R secondary, Context<RemoteExecutionCluster> context) {
    if (secondary != null) { // JOSDK asks for a delete whether or not the object exists
      record(context, "deleted", secondary);
      super.handleDelete(primary, secondary, context);
    }
  }

  protected static void record(Context<RemoteExecutionCluster> context, String action, HasMetadata object) {
    ClusterPlan plan = ClusterPlan.of(context);
    plan.metrics.action(plan.names.namespace(), plan.names.cluster(), action,
        object.getKind() + " " + object.getMetadata().getName());
  }

  protected ObjectMeta metadata(ClusterPlan plan) {
    return new ObjectMetaBuilder().withName(naming.apply(plan.names)).withNamespace(plan.names.namespace())
        .withLabels(Labels.of(plan.names, component)).build();
  }
}
