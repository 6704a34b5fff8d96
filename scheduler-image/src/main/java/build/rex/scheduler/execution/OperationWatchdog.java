package build.rex.scheduler.execution;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last line of defence against a build that hangs: every few seconds it asks the
 * dispatcher for unfinished operations that nothing would ever move on (no queue entry, no
 * live executor, no retry timer), which is a bug whenever it happens. Each one is logged with
 * its history, counted in {@code rex_watchdog_orphaned_operations_total} and requeued.
 */
public final class OperationWatchdog {
  private static final Logger log = LoggerFactory.getLogger(OperationWatchdog.class);
  private final Dispatcher dispatcher;
  private final Counter orphaned;

  public OperationWatchdog(Dispatcher dispatcher, MeterRegistry metrics) {
    this.dispatcher = dispatcher;
    this.orphaned = Counter.builder("rex.watchdog.orphaned.operations")
        .description("Unfinished operations found with nothing to move them on (a bug), then requeued")
        .register(metrics);
  }

  public void check() {
    List<String> rescued = dispatcher.rescueOrphans();
    for (String operation : rescued) {
      log.error("WATCHDOG: orphaned operation requeued: {}", operation);
    }
    orphaned.increment(rescued.size());
  }
}
