package build.rex.storage.ac;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.Tree;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Serves an Action Cache entry only when every blob it refers to (output files, the files inside
 * output directories, stdout and stderr) is in the CAS. Checking also touches those blobs, so a
 * hit keeps them from being evicted right after it.
 */
public final class CompletenessCheckingActionCache implements ActionCache {
  private final ActionCache inner;
  private final BlobStore cas;

  public CompletenessCheckingActionCache(ActionCache inner, BlobStore cas) {
    this.inner = inner;
    this.cas = cas;
  }

  @Override
  public Optional<ActionResult> get(ActionKey key) throws IOException {
    Optional<ActionResult> result = inner.get(key);
    if (result.isPresent() && !isComplete(result.get())) {
      return Optional.empty();
    }
    return result;
  }

  @Override
  public void put(ActionKey key, ActionResult result) throws IOException {
    inner.put(key, result);
  }

  private boolean isComplete(ActionResult result) throws IOException {
    List<Digest> referenced = new ArrayList<>();
    for (OutputFile file : result.getOutputFilesList()) {
      referenced.add(file.getDigest());
    }
    if (result.hasStdoutDigest()) {
      referenced.add(result.getStdoutDigest());
    }
    if (result.hasStderrDigest()) {
      referenced.add(result.getStderrDigest());
    }
    for (OutputDirectory directory : result.getOutputDirectoriesList()) {
      Tree tree;
      try {
        tree = Tree.parseFrom(cas.get(directory.getTreeDigest()));
      } catch (BlobNotFoundException e) {
        return false;
      }
      addFiles(tree.getRoot(), referenced);
      tree.getChildrenList().forEach(child -> addFiles(child, referenced));
    }
    return cas.findMissing(referenced).isEmpty();
  }

  private static void addFiles(Directory directory, List<Digest> into) {
    for (FileNode file : directory.getFilesList()) {
      into.add(file.getDigest());
    }
  }
}
