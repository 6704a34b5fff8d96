package build.rex.operator.resources;

import build.rex.operator.api.RemoteExecutionClusterSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Map;

/**
 * A worker pod's requests and limits, from its executor layout: the sum of its executors' cpu
 * and memory, plus the worker process's own memory. Requests equal limits, so the pod gets the
 * Guaranteed class and its executors never compete with other pods for what they were promised.
 */
public final class WorkerResources {
  private static final BigDecimal MI = BigDecimal.valueOf(1024L * 1024);

  private WorkerResources() {}

  public static ResourceRequirements of(RemoteExecutionClusterSpec.Workers workers) {
    BigDecimal cpu = BigDecimal.ZERO;
    BigDecimal memory = amount(workers.processMemory);
    for (RemoteExecutionClusterSpec.ExecutorPool pool : workers.executors) {
      cpu = cpu.add(amount(pool.cpu).multiply(BigDecimal.valueOf(pool.count)));
      memory = memory.add(amount(pool.memory).multiply(BigDecimal.valueOf(pool.count)));
    }
    Map<String, Quantity> both = Map.of("cpu", millicores(cpu), "memory", mebibytes(memory));
    return new ResourceRequirementsBuilder().withRequests(both).withLimits(both).build();
  }

  public static ResourceRequirements scheduler(RemoteExecutionClusterSpec.Schedulers schedulers) {
    // No cpu limit: a scheduler's bursts (many clients at once) should use idle cpu, not be throttled.
    return new ResourceRequirementsBuilder()
        .withRequests(Map.of("cpu", new Quantity(schedulers.cpu), "memory", new Quantity(schedulers.memory)))
        .withLimits(Map.of("memory", new Quantity(schedulers.memory)))
        .build();
  }

  /** The amount a quantity stands for: cores for cpu, bytes for memory. */
  public static BigDecimal amount(String quantity) {
    return Quantity.getAmountInBytes(new Quantity(quantity));
  }

  private static Quantity millicores(BigDecimal cores) {
    return new Quantity(cores.multiply(BigDecimal.valueOf(1000)).setScale(0, RoundingMode.CEILING).toPlainString() + "m");
  }

  private static Quantity mebibytes(BigDecimal bytes) {
    return new Quantity(bytes.divide(MI, 0, RoundingMode.CEILING).toPlainString() + "Mi");
  }
}
