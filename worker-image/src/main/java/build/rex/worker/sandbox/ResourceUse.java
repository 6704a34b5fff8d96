package build.rex.worker.sandbox;

import java.time.Duration;

/** What an action used, from its cgroup. */
public record ResourceUse(Duration userCpu, Duration systemCpu, long peakMemoryBytes) {}
