package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.rex.storage.BlobStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the inputs of queued actions in use on the workers that hold them: a FindMissingBlobs
 * on their owners counts as a use, and workers do not evict blobs used within their minimum
 * lifetime. Run more often than that lifetime, so an action that waits long in the queue still
 * finds its inputs when it is dispatched. For a job whose input tree was too large to keep, the
 * Action's own blobs (command, input root) are kept; its files are as fresh as the Execute left them.
 */
public final class QueuedInputs {
  private static final Logger log = LoggerFactory.getLogger(QueuedInputs.class);
  private static final int BATCH = 10_000;
  private final Dispatcher dispatcher;
  private final BlobStore cas;

  public QueuedInputs(Dispatcher dispatcher, BlobStore cas) {
    this.dispatcher = dispatcher;
    this.cas = cas;
  }

  /** Uses every input of every queued job once; returns how many distinct blobs that was. */
  public int touch() {
    Set<Digest> inputs = new LinkedHashSet<>();
    for (Job job : dispatcher.list()) {
      if (job.state() != Job.State.QUEUED) {
        continue;
      }
      inputs.add(job.action.getCommandDigest());
      inputs.add(job.action.getInputRootDigest());
      for (Directory directory : job.inputDirectories.values()) {
        for (FileNode file : directory.getFilesList()) {
          inputs.add(file.getDigest());
        }
        directory.getDirectoriesList().forEach(child -> inputs.add(child.getDigest()));
      }
    }
    List<Digest> batch = new ArrayList<>(BATCH);
    for (Digest digest : inputs) {
      batch.add(digest);
      if (batch.size() == BATCH) {
        findMissing(batch);
        batch.clear();
      }
    }
    findMissing(batch);
    return inputs.size();
  }

  private void findMissing(List<Digest> batch) {
    if (batch.isEmpty()) {
      return;
    }
    try {
      cas.findMissing(batch);
    } catch (IOException e) {
      log.warn("could not keep {} inputs of queued actions in use: {}", batch.size(), e.toString());
    }
  }
}
