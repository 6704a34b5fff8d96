package build.rex.scheduler.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Platform;
import build.rex.storage.Digests;
import build.rex.storage.ac.ActionKey;
import com.google.protobuf.ByteString;
import com.google.protobuf.util.Timestamps;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class PlatformQueuesTest {
  private static final Platform LINUX = platform("OSFamily", "linux");
  private static final Platform GPU = platform("OSFamily", "linux", "gpu", "a100");

  private static Platform platform(String... nameValues) {
    Platform.Builder platform = Platform.newBuilder();
    for (int i = 0; i < nameValues.length; i += 2) {
      platform.addPropertiesBuilder().setName(nameValues[i]).setValue(nameValues[i + 1]);
    }
    return platform.build();
  }

  private static long sequence;

  private static Job job(Platform platform, int priority) {
    long n = ++sequence;
    return new Job("operations/test/" + n, new ActionKey("", Digests.of(ByteString.copyFromUtf8("action " + n))),
        Action.getDefaultInstance(), Command.getDefaultInstance(), platform, priority, n, Timestamps.now(), java.util.Map.of(),
        Job.Origin.NONE);
  }

  @Test
  void propertyOrderDoesNotMakeAnotherPlatform() {
    PlatformQueues queues = new PlatformQueues();
    queues.add(job(platform("a", "1", "b", "2"), 0));
    queues.add(job(platform("b", "2", "a", "1"), 0));
    assertEquals(1, queues.platforms());
    assertEquals(2, queues.size());
  }

  @Test
  void aPlatformNoExecutorTakesHoldsUpOnlyItself() {
    PlatformQueues queues = new PlatformQueues();
    Job gpuFirst = job(GPU, 0);
    Job gpuSecond = job(GPU, 0);
    Job linux = job(LINUX, 5);
    queues.add(gpuFirst);
    queues.add(gpuSecond);
    queues.add(linux);
    List<Job> offered = new ArrayList<>();
    queues.dispatch(job -> {
      offered.add(job);
      return job.platform.equals(LINUX);
    });
    assertEquals(List.of(gpuFirst, linux), offered, "the GPU queue's best job is offered once, its next not at all");
    assertEquals(2, queues.size());
    assertTrue(queues.contains(gpuSecond));
    assertFalse(queues.contains(linux));
  }

  @Test
  void removingAJobLeavesTheRestInOrder() {
    PlatformQueues queues = new PlatformQueues();
    Job a = job(LINUX, 0);
    Job b = job(LINUX, 0);
    Job c = job(LINUX, 0);
    List.of(a, b, c).forEach(queues::add);
    assertTrue(queues.remove(b));
    assertFalse(queues.remove(b));
    List<Job> taken = new ArrayList<>();
    queues.dispatch(taken::add);
    assertEquals(List.of(a, c), taken);
    assertEquals(0, queues.size());
    assertEquals(0, queues.platforms());
  }

  /**
   * Against the plain order it replaces (every job best first, each offered until one is
   * refused by the executors there are): the same jobs are taken, in the same order.
   */
  @Property(tries = 300)
  void takesWhatOneQueueBestFirstWouldTake(@ForAll @Size(max = 40) List<@IntRange(min = 0, max = 3) Integer> platforms,
      @ForAll @Size(max = 40) List<@IntRange(min = -2, max = 2) Integer> priorities,
      @ForAll @Size(max = 6) Set<@IntRange(min = 0, max = 3) Integer> served, @ForAll @IntRange(min = 0, max = 50) int executors) {
    PlatformQueues queues = new PlatformQueues();
    List<Job> all = new ArrayList<>();
    for (int i = 0; i < platforms.size(); i++) {
      Job job = job(platform("kind", Integer.toString(platforms.get(i))), priorities.isEmpty() ? 0
          : priorities.get(i % priorities.size()));
      all.add(job);
      queues.add(job);
    }
    List<Job> expected = new ArrayList<>();
    int left = executors;
    for (Job job : all.stream().sorted(PlatformQueues.BEST_FIRST).toList()) {
      if (left > 0 && served.contains(Integer.parseInt(job.platform.getProperties(0).getValue()))) {
        expected.add(job);
        left--;
      }
    }
    List<Job> taken = new ArrayList<>();
    int[] free = {executors};
    queues.dispatch(job -> {
      if (free[0] == 0 || !served.contains(Integer.parseInt(job.platform.getProperties(0).getValue()))) {
        return false;
      }
      free[0]--;
      taken.add(job);
      return true;
    });
    assertEquals(expected, taken);
    assertEquals(all.size() - taken.size(), queues.size());
  }
}
