package build.rex.storage.fuzz;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import build.rex.storage.Digests;
import build.rex.storage.InputTreeValidator;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.MerkleTree;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * Directory trees and Commands from hostile clients: validation fails only with
 * InvalidArgumentException, and whatever it accepts is safe to lay out on disk (checked here
 * by an independent walk of every path the tree names).
 */
class InputTreeFuzzTest {
  private static final Digest CONTENT = Digests.of(new byte[] {42});

  @Provide
  Arbitrary<MerkleTree> trees() {
    return InputTrees.trees(CONTENT);
  }

  @Property(tries = 20_000)
  void acceptedTreesNameOnlyPathsInsideTheRoot(@ForAll("trees") MerkleTree tree) {
    try {
      InputTreeValidator.validate(tree);
    } catch (InvalidArgumentException e) {
      Statistics.label("outcome").collect("rejected");
      return;
    }
    Statistics.label("outcome").collect("accepted");
    walk(tree, tree.root(), new ArrayList<>());
  }

  /** Every entry name is one segment, unique, and every symlink resolves lexically inside the root. */
  private static void walk(MerkleTree tree, Digest digest, List<String> path) {
    Directory directory = tree.directories().get(digest);
    if (directory == null) {
      return;
    }
    Set<String> names = new HashSet<>();
    List<String> all = new ArrayList<>();
    directory.getFilesList().stream().map(FileNode::getName).forEach(all::add);
    directory.getSymlinksList().stream().map(SymlinkNode::getName).forEach(all::add);
    directory.getDirectoriesList().stream().map(DirectoryNode::getName).forEach(all::add);
    for (String name : all) {
      assertTrue(names.add(name), "unique: " + name);
      assertFalse(name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/") || name.contains("\0"), name);
    }
    for (SymlinkNode link : directory.getSymlinksList()) {
      assertFalse(link.getTarget().startsWith("/"), link.getTarget());
      List<String> resolved = new ArrayList<>(path);
      for (String segment : link.getTarget().split("/")) {
        if (segment.equals("..")) {
          assertFalse(resolved.isEmpty(), "symlink " + path + "/" + link.getName() + " -> " + link.getTarget() + " leaves the root");
          resolved.remove(resolved.size() - 1);
        } else if (!segment.isEmpty() && !segment.equals(".")) {
          resolved.add(segment);
        }
      }
    }
    for (DirectoryNode child : directory.getDirectoriesList()) {
      List<String> below = new ArrayList<>(path);
      below.add(child.getName());
      walk(tree, child.getDigest(), below);
    }
  }

  @Provide
  Arbitrary<Command> commands() {
    Arbitrary<String> text = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(5, Arbitraries.strings().withChars("ab/.=").ofMaxLength(6)),
        net.jqwik.api.Tuple.of(1, Arbitraries.of("", "..", "/etc/passwd", "a/../..", "x\0", "=", "A=B")));
    Arbitrary<Command.EnvironmentVariable> variables = net.jqwik.api.Combinators.combine(text, text)
        .as((name, value) -> Command.EnvironmentVariable.newBuilder().setName(name).setValue(value).build());
    return net.jqwik.api.Combinators.combine(text.list().ofMaxSize(3), variables.list().ofMaxSize(3),
        text.list().ofMaxSize(3), text.list().ofMaxSize(2), Arbitraries.of("", "", "sub", "..", "/tmp"))
        .as((arguments, env, outputs, outputFiles, workingDirectory) -> Command.newBuilder().addAllArguments(arguments)
            .addAllEnvironmentVariables(env).addAllOutputPaths(outputs).addAllOutputFiles(outputFiles)
            .setWorkingDirectory(workingDirectory).build());
  }

  @Property(tries = 20_000)
  void acceptedCommandsStayInsideTheRootAndCanBeExecuted(@ForAll("commands") Command command) {
    try {
      InputTreeValidator.validate(command);
    } catch (InvalidArgumentException e) {
      Statistics.label("outcome").collect("rejected");
      return;
    }
    Statistics.label("outcome").collect("accepted");
    assertFalse(command.getArgumentsList().isEmpty());
    command.getArgumentsList().forEach(argument -> assertFalse(argument.contains("\0")));
    command.getEnvironmentVariablesList().forEach(v -> assertFalse(v.getName().isEmpty() || v.getName().contains("=")));
    List<String> paths = new ArrayList<>(command.getOutputPathsList());
    paths.addAll(command.getOutputFilesList());
    paths.add(command.getWorkingDirectory());
    for (String path : paths) {
      assertFalse(path.startsWith("/"), path);
      int level = 0;
      for (String segment : path.split("/")) {
        level += segment.equals("..") ? -1 : (segment.isEmpty() || segment.equals(".") ? 0 : 1);
        assertTrue(level >= 0, path + " leaves the root");
      }
    }
  }

  @Property(tries = 200)
  void treesThatExpandToTooManyPathsAreRefusedCheaply(@ForAll("fanOut") int fanOut) throws Exception {
    // Each level names the one below fanOut times: few distinct directories, fanOut^depth paths.
    Directory level = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("f").setDigest(CONTENT)).build();
    List<Directory> rootLast = new ArrayList<>(List.of(level));
    for (int depth = 0; depth < 40; depth++) {
      Directory.Builder next = Directory.newBuilder();
      for (int i = 0; i < fanOut; i++) {
        next.addDirectories(DirectoryNode.newBuilder().setName(String.format("d%03d", i)).setDigest(Digests.of(level)));
      }
      level = next.build();
      rootLast.add(level);
    }
    List<Directory> rootFirst = new ArrayList<>(rootLast);
    java.util.Collections.reverse(rootFirst);
    MerkleTree tree = MerkleTree.of(Digests.of(level), rootFirst);
    try {
      InputTreeValidator.validate(tree);
      assertTrue(Math.pow(fanOut, 40) < InputTreeValidator.MAX_ENTRIES, "accepted only when small");
    } catch (InvalidArgumentException e) {
      assertTrue(e.getMessage().contains("expands to more than"), e.getMessage());
    }
  }

  @Provide
  Arbitrary<Integer> fanOut() {
    return Arbitraries.integers().between(1, 50);
  }
}
