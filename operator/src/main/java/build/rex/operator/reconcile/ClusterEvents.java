package build.rex.operator.reconcile;

import build.rex.operator.api.RemoteExecutionCluster;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Kubernetes Events on a cluster, so {@code kubectl describe rec} shows what went wrong. */
public final class ClusterEvents {
  private static final Logger log = LoggerFactory.getLogger(ClusterEvents.class);
  private final KubernetesClient client;

  public ClusterEvents(KubernetesClient client) {
    this.client = client;
  }

  public void warning(RemoteExecutionCluster cluster, String reason, String message) {
    record(cluster, "Warning", reason, message);
  }

  /** Something worth knowing that is not a problem, e.g. the autoscaler changed the worker count. */
  public void normal(RemoteExecutionCluster cluster, String reason, String message) {
    record(cluster, "Normal", reason, message);
  }

  private void record(RemoteExecutionCluster cluster, String type, String reason, String message) {
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    var metadata = cluster.getMetadata();
    try {
      client.v1().events().inNamespace(metadata.getNamespace()).resource(new EventBuilder()
          .withNewMetadata().withName(metadata.getName() + "." + UUID.randomUUID().toString().substring(0, 13))
          .withNamespace(metadata.getNamespace()).endMetadata()
          .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion(cluster.getApiVersion()).withKind(cluster.getKind())
              .withName(metadata.getName()).withNamespace(metadata.getNamespace()).withUid(metadata.getUid())
              .withResourceVersion(metadata.getResourceVersion()).build())
          .withType(type).withReason(reason).withMessage(message)
          .withNewSource().withComponent("rex-operator").endSource()
          .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
          .build()).create();
    } catch (RuntimeException e) {
      // An Event is a courtesy; the condition already carries the message.
      log.warn("cannot record event {} on {}/{}: {}", reason, metadata.getNamespace(), metadata.getName(), e.getMessage());
    }
  }
}
