package build.rex.operator.resources;

import build.rex.operator.api.RemoteExecutionCluster;
import build.rex.operator.api.RemoteExecutionClusterSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.api.reconciler.dependent.ReconcileResult;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;
import java.util.List;
import java.util.Optional;

/**
 * The user's Secret that {@code backup.credentialsSecretName} names, which the schedulers mount.
 * The operator only reads it: the schedulers wait for it (so a pod that could not start never
 * replaces a running one), and the status says what is missing.
 */
public final class BackupCredentials extends UnwatchedDependent<Secret> {
  static final List<String> KEYS = List.of("access-key-id", "secret-access-key");

  public BackupCredentials() {
    super(Secret.class);
  }

  /** Ready when no Secret is needed, or the one named has both keys. */
  public static final class Present implements Condition<Secret, RemoteExecutionCluster> {
    @Override
    public boolean isMet(DependentResource<Secret, RemoteExecutionCluster> dependent, RemoteExecutionCluster primary,
        Context<RemoteExecutionCluster> context) {
      return missing(primary, context).isEmpty();
    }
  }

  @Override
  public ReconcileResult<Secret> reconcile(RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    return ReconcileResult.noOperation(getSecondaryResource(primary, context).orElse(null));
  }

  @Override
  public Optional<Secret> getSecondaryResource(RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    String name = named(primary.getSpec());
    return name == null ? Optional.empty() : Optional.ofNullable(context.getClient().secrets()
        .inNamespace(primary.getMetadata().getNamespace()).withName(name).get());
  }

  /** What the schedulers wait for, in words; empty when nothing. */
  public static Optional<String> missing(RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
    String name = named(primary.getSpec());
    if (name == null) {
      return Optional.empty();
    }
    Secret secret = context.getClient().secrets().inNamespace(primary.getMetadata().getNamespace()).withName(name).get();
    if (secret == null) {
      return Optional.of("the Secret " + name + " (backup.credentialsSecretName) does not exist");
    }
    List<String> absent = KEYS.stream().filter(key -> secret.getData() == null || !secret.getData().containsKey(key)
        && (secret.getStringData() == null || !secret.getStringData().containsKey(key))).toList();
    return absent.isEmpty() ? Optional.empty()
        : Optional.of("the Secret " + name + " (backup.credentialsSecretName) lacks " + String.join(" and ", absent));
  }

  private static String named(RemoteExecutionClusterSpec spec) {
    return spec.backup.enabled && spec.backup.credentialsSecretName != null ? spec.backup.credentialsSecretName : null;
  }
}
