package build.rex.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MerkleTreeTest {
  @TempDir Path root;

  private static final Directory LEAF = Directory.newBuilder()
      .addFiles(FileNode.newBuilder().setName("f").setDigest(Digests.of(ByteString.copyFromUtf8("f")))).build();
  private static final Directory ROOT = Directory.newBuilder()
      .addDirectories(DirectoryNode.newBuilder().setName("a").setDigest(Digests.of(LEAF)))
      .addDirectories(DirectoryNode.newBuilder().setName("b").setDigest(Digests.of(LEAF))).build();

  @Test
  void loadsBreadthFirstOnceEachAndTheSameFromMessagesAtHand() throws Exception {
    DiskBlobStore cas = DiskBlobStore.open(root, new DiskStoreSettings(1 << 20, 0.5, 0.9, false));
    cas.put(Digests.of(ROOT), ROOT.toByteString());
    cas.put(Digests.of(LEAF), LEAF.toByteString());
    MerkleTree loaded = MerkleTree.load(cas, Digests.of(ROOT));
    assertEquals(List.of(ROOT, LEAF), List.copyOf(loaded.directories().values()));
    assertEquals(Set.of(Digests.of(ByteString.copyFromUtf8("f"))), loaded.fileDigests());

    MerkleTree rebuilt = MerkleTree.of(Digests.of(ROOT), List.copyOf(loaded.directoriesUpTo(1 << 20).values()));
    assertEquals(loaded.directories(), rebuilt.directories());
    assertTrue(rebuilt.missingDirectories().isEmpty());
    assertEquals(java.util.Map.of(), loaded.directoriesUpTo(10), "too large to send: nothing");

    var sent = loaded.directoriesUpTo(1 << 20);
    MerkleTree trusted = MerkleTree.trusted(Digests.of(ROOT), List.copyOf(sent.keySet()), List.copyOf(sent.values()));
    assertEquals(loaded, trusted, "the digests sent along are the ones the tree was read by");
  }

  @Test
  void aTrustedTreeStillShowsWhatIsMissing() {
    assertEquals(Set.of(Digests.of(LEAF)),
        MerkleTree.trusted(Digests.of(ROOT), List.of(Digests.of(ROOT)), List.of(ROOT)).missingDirectories());
    assertEquals(Set.of(Digests.of(ROOT)),
        MerkleTree.trusted(Digests.of(ROOT), List.of(Digests.of(LEAF)), List.of(LEAF)).missingDirectories());
    assertThrows(IllegalArgumentException.class, () -> MerkleTree.trusted(Digests.of(ROOT), List.of(), List.of(ROOT)));
  }

  @Test
  void messagesAtHandMustHoldTheRootAndShowWhatIsMissing() throws Exception {
    assertThrows(InvalidArgumentException.class, () -> MerkleTree.of(Digests.of(ROOT), List.of(LEAF)));
    assertEquals(Set.of(Digests.of(LEAF)), MerkleTree.of(Digests.of(ROOT), List.of(ROOT)).missingDirectories());
  }
}
