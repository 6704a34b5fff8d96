package build.rex.storage;

import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Rejects anything in an action that could make a worker write outside its exec root: names
 * with '/', '.', '..' or nothing in a Directory, duplicate names, symlinks that are absolute or
 * climb out of the tree, and output or working-directory paths that are absolute or use '..'.
 */
public final class InputTreeValidator {
  private InputTreeValidator() {}

  public static void validate(MerkleTree tree) throws InvalidArgumentException {
    // Directories come root first, breadth first: the first depth seen is the smallest.
    java.util.Map<build.bazel.remote.execution.v2.Digest, Integer> depths = new java.util.HashMap<>();
    depths.put(tree.root(), 0);
    for (var entry : tree.directories().entrySet()) {
      int depth = depths.get(entry.getKey());
      for (DirectoryNode child : entry.getValue().getDirectoriesList()) {
        depths.putIfAbsent(child.getDigest(), depth + 1);
      }
      validate(entry.getValue(), depth);
    }
  }

  /** Checks one directory found {@code depth} levels below the input root. */
  static void validate(Directory directory, int depth) throws InvalidArgumentException {
    Set<String> names = new HashSet<>();
    List<String> all = new ArrayList<>();
    directory.getFilesList().stream().map(FileNode::getName).forEach(all::add);
    directory.getDirectoriesList().stream().map(DirectoryNode::getName).forEach(all::add);
    directory.getSymlinksList().stream().map(SymlinkNode::getName).forEach(all::add);
    for (String name : all) {
      if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/") || name.contains("\0")) {
        throw new InvalidArgumentException("input tree has an entry named '" + name
            + "'; names must be one path segment, not empty, '.' or '..'");
      }
      if (!names.add(name)) {
        throw new InvalidArgumentException("input tree has two entries named '" + name + "' in one directory");
      }
    }
    for (SymlinkNode link : directory.getSymlinksList()) {
      checkRelative("symlink '" + link.getName() + "' target", link.getTarget(), depth);
    }
  }

  /** Output paths and the working directory must stay inside the input root. */
  public static void validate(Command command) throws InvalidArgumentException {
    if (!command.getWorkingDirectory().isEmpty()) {
      checkRelative("working_directory", command.getWorkingDirectory(), 0);
    }
    List<String> outputs = new ArrayList<>(command.getOutputPathsList());
    outputs.addAll(command.getOutputFilesList());
    outputs.addAll(command.getOutputDirectoriesList());
    for (String output : outputs) {
      checkRelative("output path", output, 0);
    }
    if (command.getArgumentsCount() == 0) {
      throw new InvalidArgumentException("the Command has no arguments");
    }
  }

  /**
   * A relative path whose '..' segments never climb more than {@code depth} levels above where
   * it starts: a symlink starts in its own directory, so it may climb back up to the root.
   */
  private static void checkRelative(String what, String path, int depth) throws InvalidArgumentException {
    if (path.startsWith("/")) {
      throw new InvalidArgumentException(what + " '" + path + "' is absolute; it must stay inside the input root");
    }
    int level = 0;
    for (String segment : path.split("/")) {
      if (segment.equals("..")) {
        level--;
      } else if (!segment.isEmpty() && !segment.equals(".")) {
        level++;
      }
      if (level < -depth) {
        throw new InvalidArgumentException(what + " '" + path + "' leaves the input root");
      }
    }
  }
}
