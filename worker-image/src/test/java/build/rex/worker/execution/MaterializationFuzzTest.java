package build.rex.worker.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.rex.storage.Digests;
import build.rex.storage.InputTreeValidator;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.MerkleTree;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import build.rex.storage.fuzz.InputTrees;
import com.google.protobuf.ByteString;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Input roots from hostile clients, laid out on a real disk the way a worker does before an
 * action runs: whatever validation lets through, nothing is written outside the exec root and
 * every symlink made points inside it.
 */
class MaterializationFuzzTest {
  private static final ByteString CONTENT = ByteString.copyFromUtf8("input");
  private static Path base;
  private static DiskBlobStore cas;
  private static int run;

  @BeforeContainer
  static void openCas() throws Exception {
    base = Files.createTempDirectory("rex-materialize-fuzz");
    cas = DiskBlobStore.open(base.resolve("cas"), new DiskStoreSettings(1 << 20, 0.5, 0.9, false));
    cas.putBatch(Map.of(Digests.of(CONTENT), CONTENT));
  }

  @AfterContainer
  static void removeAll() throws Exception {
    new ExecRootsFolder(base).delete();
  }

  @Provide
  Arbitrary<MerkleTree> trees() {
    return InputTrees.trees(Digests.of(CONTENT));
  }

  @Property(tries = 10_000)
  void nothingIsWrittenOutsideTheExecRoot(@ForAll("trees") MerkleTree tree) throws Exception {
    try {
      InputTreeValidator.validate(tree);
    } catch (InvalidArgumentException e) {
      Statistics.label("outcome").collect("rejected");
      return;
    }
    Statistics.label("outcome").collect("materialized");
    Path sandbox = base.resolve("run-" + run++);
    Path outside = Files.createDirectories(sandbox.resolve("outside"));
    Path root = sandbox.resolve("exec");
    try (ExecRoot execRoot = ExecRoot.create(root, tree, cas)) {
      try (Stream<Path> entries = Files.walk(sandbox)) {
        for (Path entry : entries.toList()) {
          assertTrue(entry.equals(sandbox) || entry.equals(outside) || entry.startsWith(root), "written outside: " + entry);
          if (Files.isSymbolicLink(entry)) {
            Path target = entry.getParent().resolve(Files.readSymbolicLink(entry)).normalize();
            assertTrue(target.startsWith(root), entry + " points outside the exec root, to " + target);
          }
        }
      }
      try (Stream<Path> left = Files.list(outside)) {
        assertEquals(List.of(), left.toList());
      }
    } finally {
      new ExecRootsFolder(sandbox).delete();
    }
  }
}
