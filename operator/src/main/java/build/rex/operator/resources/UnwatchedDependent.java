package build.rex.operator.resources;

import build.rex.operator.api.RemoteExecutionCluster;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.api.reconciler.dependent.NameSetter;

/**
 * A workflow step on an object the operator reads or applies with plain calls and does not
 * watch: one whose API may not exist (cert-manager's), or that the user owns.
 */
public abstract class UnwatchedDependent<R> implements DependentResource<R, RemoteExecutionCluster>, NameSetter {
  private final Class<R> type;
  private String name;

  protected UnwatchedDependent(Class<R> type) {
    this.type = type;
    this.name = DependentResource.defaultNameFor(getClass());
  }

  @Override
  public Class<R> resourceType() {
    return type;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void setName(String name) {
    this.name = name;
  }
}
