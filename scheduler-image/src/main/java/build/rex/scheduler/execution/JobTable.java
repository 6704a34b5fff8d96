package build.rex.scheduler.execution;

import build.rex.storage.ac.ActionKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every job a scheduler holds, by name: its own jobs, the names of other schedulers' operations
 * it carries on, and the jobs identical Executes join. Finished jobs stay for a retention time so
 * that WaitExecution and GetOperation still find them. Not thread-safe: the {@link Dispatcher}
 * changes it under its lock, together with the queues.
 */
final class JobTable {
  private final Map<String, Job> jobs = new LinkedHashMap<>();
  /** Names of other schedulers' operations taken over here, to the job that carries them on. */
  private final Map<String, Job> adopted = new HashMap<>();
  /** The job in flight for each action that may be shared (not do_not_cache). */
  private final Map<ActionKey, Job> mergeable = new HashMap<>();

  /** The unfinished job an identical Execute would join, or null. */
  Job inFlight(ActionKey key) {
    Job job = mergeable.get(key);
    return job != null && !job.isDone() ? job : null;
  }

  /** Adds a new job; a {@code shared} one is joined by identical Executes until it completes. */
  void add(Job job, boolean shared) {
    jobs.put(job.name, job);
    if (shared) {
      mergeable.put(job.key, job);
    }
  }

  /** Has {@code oldName}, an operation of a scheduler that is gone, lead to {@code job}. */
  void adopt(String oldName, Job job) {
    adopted.put(oldName, job);
  }

  /** A job by its own name or by an adopted one; null when unknown. */
  Job find(String name) {
    Job job = jobs.get(name);
    return job != null ? job : adopted.get(name);
  }

  /** A job by its own name only (workers report on those). */
  Job own(String name) {
    return jobs.get(name);
  }

  /** The job completed: later Executes of its action start a new one. */
  void completed(Job job) {
    mergeable.remove(job.key, job);
  }

  /** Forgets jobs completed more than {@code retention} ago, and the adopted names that led to them. */
  void forgetCompleted(Duration retention) {
    jobs.values().removeIf(job -> job.state() == Job.State.COMPLETED && job.nanosInState() > retention.toNanos());
    adopted.values().removeIf(job -> !jobs.containsKey(job.name));
  }

  /** Every job, in the order they came; a view, not to be changed while iterated. */
  Collection<Job> all() {
    return Collections.unmodifiableCollection(jobs.values());
  }

  List<Job> snapshot() {
    return new ArrayList<>(jobs.values());
  }
}
