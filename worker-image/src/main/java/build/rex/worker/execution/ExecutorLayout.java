package build.rex.worker.execution;

import build.bazel.remote.execution.v2.Platform;
import build.rex.v1.Executor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The worker's executors, from its configured pools: pool i's j-th executor is "p{i}-{j}". */
public final class ExecutorLayout {
  private ExecutorLayout() {}

  /** @param pools each pool's size and platform properties */
  public static List<Executor> executors(List<Map.Entry<Integer, Map<String, String>>> pools) {
    List<Executor> executors = new ArrayList<>();
    for (int i = 0; i < pools.size(); i++) {
      Platform.Builder platform = Platform.newBuilder();
      new TreeMap<>(pools.get(i).getValue()).forEach((name, value) ->
          platform.addPropertiesBuilder().setName(name).setValue(value));
      for (int j = 0; j < pools.get(i).getKey(); j++) {
        executors.add(Executor.newBuilder().setExecutorId("p" + i + "-" + j).setProperties(platform).build());
      }
    }
    return executors;
  }
}
