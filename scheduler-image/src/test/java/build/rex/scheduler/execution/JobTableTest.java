package build.rex.scheduler.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.Platform;
import build.rex.storage.ac.ActionKey;
import com.google.protobuf.util.Timestamps;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobTableTest {
  private static final ActionKey KEY = new ActionKey("", Digest.newBuilder().setHash("a".repeat(64)).setSizeBytes(1).build());
  private long sequence;

  private Job job(String name) {
    return new Job(name, KEY, Action.getDefaultInstance(), Command.getDefaultInstance(), Platform.getDefaultInstance(),
        0, ++sequence, Timestamps.now(), Map.of(), Job.Origin.NONE);
  }

  @Test
  void sharedJobsAreJoinedUntilTheyComplete() {
    JobTable table = new JobTable();
    Job first = job("operations/s/1");
    table.add(first, true);
    assertSame(first, table.inFlight(KEY));
    Job unshared = job("operations/s/2");
    table.add(unshared, false);
    assertSame(first, table.inFlight(KEY), "a do_not_cache job is never joined");
    first.complete(ExecuteResponse.getDefaultInstance(), "done");
    table.completed(first);
    assertNull(table.inFlight(KEY));
    assertSame(first, table.find("operations/s/1"), "still found until its retention ends");
  }

  @Test
  void adoptedNamesLeadToTheirJobAndGoWithIt() {
    JobTable table = new JobTable();
    Job carried = job("operations/here/1");
    table.add(carried, true);
    table.adopt("operations/gone/7", carried);
    assertSame(carried, table.find("operations/gone/7"));
    assertNull(table.own("operations/gone/7"), "workers report on the job's own name only");
    table.forgetCompleted(Duration.ZERO);
    assertSame(carried, table.find("operations/gone/7"), "an unfinished job is never forgotten");
    carried.complete(ExecuteResponse.getDefaultInstance(), "done");
    table.forgetCompleted(Duration.ofHours(1));
    assertEquals(List.of(carried), table.snapshot(), "kept for the retention time");
    table.forgetCompleted(Duration.ofNanos(-1));
    assertNull(table.find("operations/here/1"));
    assertNull(table.find("operations/gone/7"));
    assertEquals(List.of(), table.snapshot());
  }
}
