package build.rex.storage;

import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Rejects anything in an action that could make a worker write outside its exec root, or make
 * it work without end: names with '/', '.', '..', NUL or nothing in a Directory, duplicate or
 * unsorted names, symlinks that are absolute or climb out of the tree, trees deeper than
 * {@link #MAX_DEPTH} or that expand to more than {@link #MAX_ENTRIES} entries (a small DAG can
 * name a billion paths), and Command paths, arguments and variables a process cannot be given.
 */
public final class InputTreeValidator {
  /** Deepest input tree accepted; far beyond what fits in a 4 KiB path. */
  public static final int MAX_DEPTH = 512;
  /** Most files, directories and symlinks an input root may expand to on disk. */
  public static final int MAX_ENTRIES = 5_000_000;

  private InputTreeValidator() {}

  public static void validate(MerkleTree tree) throws InvalidArgumentException {
    // Breadth first from the root: the first depth a shared directory is seen at is its
    // smallest, which bounds how far its symlinks may climb. Directories nobody names are ignored.
    java.util.Map<Digest, Integer> depths = new java.util.HashMap<>();
    depths.put(tree.root(), 0);
    java.util.ArrayDeque<Digest> queue = new java.util.ArrayDeque<>(List.of(tree.root()));
    while (!queue.isEmpty()) {
      Digest digest = queue.poll();
      Directory directory = tree.directories().get(digest);
      if (directory == null) {
        continue;
      }
      int depth = depths.get(digest);
      validate(directory, depth);
      for (DirectoryNode child : directory.getDirectoriesList()) {
        if (depths.putIfAbsent(child.getDigest(), depth + 1) == null) {
          queue.add(child.getDigest());
        }
      }
    }
    checkExpandedSize(tree);
  }

  /** Checks one directory found {@code depth} levels below the input root. */
  static void validate(Directory directory, int depth) throws InvalidArgumentException {
    Set<String> names = new HashSet<>();
    checkSorted("files", directory.getFilesList().stream().map(FileNode::getName).toList(), names);
    checkSorted("directories", directory.getDirectoriesList().stream().map(DirectoryNode::getName).toList(), names);
    checkSorted("symlinks", directory.getSymlinksList().stream().map(SymlinkNode::getName).toList(), names);
    for (SymlinkNode link : directory.getSymlinksList()) {
      if (link.getTarget().isEmpty() || link.getTarget().indexOf('\0') >= 0) {
        throw new InvalidArgumentException("symlink '" + link.getName() + "' has an empty target or one with NUL");
      }
      checkRelative("symlink '" + link.getName() + "' target", link.getTarget(), depth);
    }
  }

  /** Each name one path segment, unique in its directory, and each list sorted as the spec asks. */
  private static void checkSorted(String list, List<String> sorted, Set<String> names) throws InvalidArgumentException {
    String previous = null;
    for (String name : sorted) {
      if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/") || name.indexOf('\0') >= 0) {
        throw new InvalidArgumentException("input tree has an entry named '" + name
            + "'; names must be one path segment, not empty, '.' or '..'");
      }
      if (!names.add(name)) {
        throw new InvalidArgumentException("input tree has two entries named '" + name + "' in one directory");
      }
      if (previous != null && byCodePoint(previous, name) > 0) {
        throw new InvalidArgumentException("input tree " + list + " are not sorted by name: '" + previous
            + "' comes before '" + name + "'");
      }
      previous = name;
    }
  }

  /** Code point order, which is the byte order of UTF-8, as clients in any language sort. */
  private static int byCodePoint(String a, String b) {
    return java.util.Arrays.compare(a.codePoints().toArray(), b.codePoints().toArray());
  }

  /**
   * How many entries the tree has once every shared subdirectory is written out at each place
   * it appears, and how deep it goes: counted bottom-up once per distinct directory, so a
   * malicious DAG costs no more to check than to load.
   */
  private static void checkExpandedSize(MerkleTree tree) throws InvalidArgumentException {
    java.util.Map<Digest, long[]> sizeAndHeight = new java.util.HashMap<>();
    java.util.ArrayDeque<Digest> stack = new java.util.ArrayDeque<>(List.of(tree.root()));
    while (!stack.isEmpty()) {
      Digest digest = stack.peek();
      Directory directory = tree.directories().get(digest);
      if (directory == null || sizeAndHeight.containsKey(digest)) {
        sizeAndHeight.putIfAbsent(digest, new long[] {0, 0});
        stack.pop();
        continue;
      }
      boolean childrenDone = true;
      for (DirectoryNode child : directory.getDirectoriesList()) {
        if (!sizeAndHeight.containsKey(child.getDigest()) && tree.directories().containsKey(child.getDigest())) {
          stack.push(child.getDigest());
          childrenDone = false;
        }
      }
      if (!childrenDone) {
        continue;
      }
      stack.pop();
      long size = directory.getFilesCount() + directory.getSymlinksCount() + directory.getDirectoriesCount();
      long height = 0;
      for (DirectoryNode child : directory.getDirectoriesList()) {
        long[] below = sizeAndHeight.getOrDefault(child.getDigest(), new long[] {0, 0});
        size = Math.min(size + below[0], Long.MAX_VALUE / 2);
        height = Math.max(height, below[1] + 1);
      }
      if (size > MAX_ENTRIES) {
        throw new InvalidArgumentException("the input tree expands to more than " + MAX_ENTRIES + " files and directories");
      }
      if (height > MAX_DEPTH) {
        throw new InvalidArgumentException("the input tree is more than " + MAX_DEPTH + " levels deep");
      }
      sizeAndHeight.put(digest, new long[] {size, height});
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
      if (output.indexOf('\0') >= 0) {
        throw new InvalidArgumentException("output path '" + output + "' contains NUL");
      }
      checkRelative("output path", output, 0);
    }
    for (String file : command.getOutputFilesList()) {
      if (file.isEmpty()) {
        throw new InvalidArgumentException("output_files has an empty path; an output file needs a name");
      }
    }
    if (command.getArgumentsCount() == 0) {
      throw new InvalidArgumentException("the Command has no arguments");
    }
    for (int i = 0; i < command.getArgumentsCount(); i++) {
      if (command.getArguments(i).indexOf('\0') >= 0) {
        throw new InvalidArgumentException("arguments[" + i + "] contains NUL, which no process can be given");
      }
    }
    Set<String> variables = new HashSet<>();
    for (Command.EnvironmentVariable variable : command.getEnvironmentVariablesList()) {
      String name = variable.getName();
      if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0 || variable.getValue().indexOf('\0') >= 0) {
        throw new InvalidArgumentException("environment variable '" + name
            + "' must have a name without '=' or NUL and a value without NUL");
      }
      if (!variables.add(name)) {
        throw new InvalidArgumentException("environment variable '" + name + "' is set twice");
      }
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
