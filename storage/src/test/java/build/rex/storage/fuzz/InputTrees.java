package build.rex.storage.fuzz;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import build.rex.storage.Digests;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.MerkleTree;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Generators of input trees for the fuzz tests: mostly plausible (so many pass validation and
 * reach the code behind it), with hostile names, symlink targets, order and sharing mixed in.
 */
public final class InputTrees {
  private InputTrees() {}

  /** One directory before digests are known: children point at directories later in the list. */
  record Spec(List<String> files, List<String[]> symlinks, List<String> childNames, List<Integer> childOffsets,
      boolean sorted, boolean executable) {}

  /** Entry names: mostly ordinary, sometimes '.', '..', '/', NUL, empty or any Unicode. */
  public static Arbitrary<String> names() {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(8, Arbitraries.strings().withChars("abAB_-.").ofMinLength(1).ofMaxLength(3)),
        net.jqwik.api.Tuple.of(2, Arbitraries.of("", ".", "..", "a/b", "/", "x\0y", "\u00e9", "...", "a/", "/a")),
        net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMaxLength(4)));
  }

  /** Symlink targets: relative paths that may or may not climb out, and absolute ones. */
  public static Arbitrary<String> symlinkTargets() {
    Arbitrary<String> path = Arbitraries.of("..", ".", "a", "b", "", "..")
        .list().ofMinSize(1).ofMaxSize(5).map(segments -> String.join("/", segments));
    return Combinators.combine(Arbitraries.of("", "", "", "/"), path).as(String::concat);
  }

  private static Arbitrary<Spec> specs() {
    return Combinators.combine(
        names().list().ofMaxSize(3),
        Combinators.combine(names(), symlinkTargets()).as((name, target) -> new String[] {name, target}).list().ofMaxSize(2),
        names().list().ofMaxSize(3),
        Arbitraries.integers().between(1, 3).list().ofSize(3),
        Arbitraries.of(true, true, true, false),
        Arbitraries.of(false, true))
        .as(Spec::new);
  }

  /**
   * A tree of one to six directories whose files all hold {@code content}; subdirectories may
   * be shared (a DAG), as content addressing allows.
   */
  public static Arbitrary<MerkleTree> trees(Digest content) {
    return specs().list().ofMinSize(1).ofMaxSize(6).map(specs -> build(specs, content));
  }

  private static MerkleTree build(List<Spec> specs, Digest content) {
    Directory[] directories = new Directory[specs.size()];
    for (int i = specs.size() - 1; i >= 0; i--) {
      Spec spec = specs.get(i);
      List<FileNode> files = new ArrayList<>();
      spec.files().forEach(name -> files.add(FileNode.newBuilder().setName(name).setDigest(content)
          .setIsExecutable(spec.executable()).build()));
      List<SymlinkNode> links = new ArrayList<>();
      spec.symlinks().forEach(link -> links.add(SymlinkNode.newBuilder().setName(link[0]).setTarget(link[1]).build()));
      List<DirectoryNode> children = new ArrayList<>();
      for (int c = 0; c < spec.childNames().size(); c++) {
        int target = i + spec.childOffsets().get(c);
        if (target < specs.size()) {
          children.add(DirectoryNode.newBuilder().setName(spec.childNames().get(c))
              .setDigest(Digests.of(directories[target])).build());
        }
      }
      if (spec.sorted()) {
        files.sort(Comparator.comparing(FileNode::getName));
        links.sort(Comparator.comparing(SymlinkNode::getName));
        children.sort(Comparator.comparing(DirectoryNode::getName));
      }
      directories[i] = Directory.newBuilder().addAllFiles(files).addAllSymlinks(links).addAllDirectories(children).build();
    }
    try {
      return MerkleTree.of(Digests.of(directories[0]), List.of(directories));
    } catch (InvalidArgumentException e) {
      throw new IllegalStateException("the generator always includes the root", e);
    }
  }
}
