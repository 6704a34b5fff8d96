package build.rex.operator.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A rex cluster: schedulers, workers and everything around them, made and kept by the operator. */
@Group("rex.build")
@Version("v1alpha1")
@ShortNames("rec")
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Schedulers", jsonPath = ".status.schedulers", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Workers", jsonPath = ".status.workers", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Autoscale", jsonPath = ".status.autoscaling", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Endpoint", jsonPath = ".status.endpoint", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class RemoteExecutionCluster extends CustomResource<RemoteExecutionClusterSpec, RemoteExecutionClusterStatus>
    implements Namespaced {
  /** Set to "true" to lower the worker count without waiting for drains (blobs only on those workers are lost). */
  public static final String FORCE_SCALE_DOWN = "rex.build/force-scale-down";

  @Override
  protected RemoteExecutionClusterSpec initSpec() {
    return new RemoteExecutionClusterSpec();
  }

  @Override
  protected RemoteExecutionClusterStatus initStatus() {
    return new RemoteExecutionClusterStatus();
  }
}
