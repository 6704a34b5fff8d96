package build.rex.worker.execution;

import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.InputTreeValidator;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.MerkleTree;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.v1.Assignment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * An action's first step: its input tree (as the scheduler sent it, or read from the CAS and
 * checked here), the tree's files fetched into this worker's CAS and pinned there, and the exec
 * root laid out from them with the folders its outputs go into.
 */
final class InputStep {
  private final BlobStore cluster;
  private final DiskBlobStore local;
  private final Path execRoots;

  InputStep(BlobStore cluster, DiskBlobStore local, Path execRoots) {
    this.cluster = cluster;
    this.local = local;
    this.execRoots = execRoots;
  }

  /** The laid-out exec root and the pins that keep its files; closing removes both. */
  record Staged(ExecRoot root, Path workingDirectory, DiskBlobStore.Lease pins) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      try {
        root.close();
      } finally {
        pins.close();
      }
    }
  }

  /**
   * @param id names the exec root, unique per attempt
   * @throws BlobNotFoundException naming an input that no owner has
   * @throws InvalidArgumentException when the tree or the command is not well-formed
   */
  Staged stage(Assignment assignment, String id) throws IOException, InvalidArgumentException, InterruptedException {
    MerkleTree inputs = inputTree(assignment);
    if (!inputs.missingDirectories().isEmpty()) {
      throw new BlobNotFoundException(inputs.missingDirectories().iterator().next());
    }
    List<Digest> files = new ArrayList<>(inputs.fileDigests());
    DiskBlobStore.Lease pins = local.pin(files);
    ExecRoot root = null;
    try {
      InputFetcher fetcher = new InputFetcher(cluster, local);
      TransientFaults.retry("fetching the inputs of " + assignment.getOperation(), () -> fetcher.fetch(files));
      root = ExecRoot.create(execRoots.resolve(id), inputs, local);
      Path workingDirectory = root.path.resolve(assignment.getCommand().getWorkingDirectory());
      createOutputParents(assignment.getCommand(), workingDirectory);
      return new Staged(root, workingDirectory, pins);
    } catch (IOException | InvalidArgumentException | InterruptedException | RuntimeException e) {
      try (pins) {
        if (root != null) {
          root.close();
        }
      }
      throw e;
    }
  }

  /**
   * The input tree: as the scheduler sent it, read and checked there (nothing is hashed or
   * checked again), or, when it was too large to travel with the assignment, read from the CAS
   * (whose reads are verified) and checked here only when the scheduler did not (an older one).
   */
  private MerkleTree inputTree(Assignment assignment) throws IOException, InvalidArgumentException, InterruptedException {
    Digest root = assignment.getAction().getInputRootDigest();
    if (assignment.getInputDirectoriesCount() > 0
        && assignment.getInputDirectoryDigestsCount() == assignment.getInputDirectoriesCount()) {
      return MerkleTree.trusted(root, assignment.getInputDirectoryDigestsList(), assignment.getInputDirectoriesList());
    }
    MerkleTree inputs;
    if (assignment.getInputDirectoriesCount() > 0) {
      inputs = MerkleTree.of(root, assignment.getInputDirectoriesList());
    } else {
      MerkleTree[] loaded = new MerkleTree[1];
      TransientFaults.retry("reading input tree " + root.getHash(), () -> loaded[0] = MerkleTree.load(cluster, root));
      inputs = loaded[0];
    }
    if (!assignment.getInputTreeChecked()) {
      InputTreeValidator.validate(inputs);
      InputTreeValidator.validate(assignment.getCommand());
    }
    return inputs;
  }

  /**
   * The folders that lead up to each output, which the command may expect to exist. Made one
   * level at a time without following symlinks, so an input symlink cannot lead them elsewhere;
   * an input file in the way is the client's mistake.
   */
  private static void createOutputParents(Command command, Path workingDirectory)
      throws IOException, InvalidArgumentException {
    List<String> outputs = new ArrayList<>(command.getOutputPathsList());
    if (outputs.isEmpty()) {
      outputs.addAll(command.getOutputFilesList());
      outputs.addAll(command.getOutputDirectoriesList());
    }
    for (String output : outputs) {
      Path parent = workingDirectory.resolve(output).normalize().getParent();
      if (parent == null || !parent.startsWith(workingDirectory)) {
        continue;
      }
      Path dir = workingDirectory;
      // Below a folder made here nothing exists yet, so nothing there needs looking at.
      boolean inMadeFolder = false;
      for (Path segment : workingDirectory.relativize(parent)) {
        dir = dir.resolve(segment);
        if (!inMadeFolder) {
          BasicFileAttributes found = attributesOrNull(dir);
          if (found != null && found.isDirectory()) {
            continue;
          }
          if (found != null) {
            throw new InvalidArgumentException("output path '" + output + "' needs a directory at '"
                + workingDirectory.relativize(dir) + "', where the input root has a file or symlink");
          }
        }
        Files.createDirectory(dir);
        inMadeFolder = true;
      }
    }
  }

  /** What is at {@code path} itself (a symlink is not followed); null when nothing is. */
  private static BasicFileAttributes attributesOrNull(Path path) throws IOException {
    try {
      return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }
}
