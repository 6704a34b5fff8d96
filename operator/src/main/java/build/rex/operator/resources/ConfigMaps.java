package build.rex.operator.resources;

import build.rex.operator.api.RemoteExecutionCluster;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.util.Map;

/** Each component's config file, in a ConfigMap its pods mount. */
public final class ConfigMaps {
  private ConfigMaps() {}

  public static final class Scheduler extends ClusterDependent<ConfigMap> {
    public Scheduler() {
      super(ConfigMap.class, Labels.SCHEDULER, ClusterNames::schedulerConfigMap);
    }

    @Override
    protected ConfigMap desired(ClusterPlan plan, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
      return new ConfigMapBuilder().withMetadata(metadata(plan))
          .withData(Map.of(ConfigFiles.SCHEDULER_FILE, plan.schedulerConfig))
          .build();
    }
  }

  public static final class Worker extends ClusterDependent<ConfigMap> {
    public Worker() {
      super(ConfigMap.class, Labels.WORKER, ClusterNames::workerConfigMap);
    }

    @Override
    protected ConfigMap desired(ClusterPlan plan, RemoteExecutionCluster primary, Context<RemoteExecutionCluster> context) {
      return new ConfigMapBuilder().withMetadata(metadata(plan))
          .withData(Map.of(ConfigFiles.WORKER_FILE, plan.workerConfig))
          .build();
    }
  }
}
