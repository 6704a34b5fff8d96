package build.rex.worker.execution;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import build.rex.storage.Digests;
import build.rex.storage.MerkleTree;
import build.rex.storage.disk.DiskBlobStore;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The folder an action runs in, laid out from its input tree. Files are hard links to the
 * worker's CAS (read-only, so an action cannot change a cached blob); executables are copies,
 * because a hard link shares its mode with the CAS file. The tree has been validated, so no
 * name leads outside the folder.
 */
final class ExecRoot implements AutoCloseable {
  final Path path;

  private ExecRoot(Path path) {
    this.path = path;
  }

  static ExecRoot create(Path path, MerkleTree tree, DiskBlobStore cas) throws IOException {
    Files.createDirectories(path);
    ExecRoot root = new ExecRoot(path);
    root.materialize(path, tree.root(), tree, cas);
    return root;
  }

  private void materialize(Path dir, Digest digest, MerkleTree tree, DiskBlobStore cas) throws IOException {
    Directory directory = tree.directories().get(digest);
    for (FileNode file : directory.getFilesList()) {
      place(dir.resolve(file.getName()), file, cas);
    }
    for (SymlinkNode link : directory.getSymlinksList()) {
      Files.createSymbolicLink(dir.resolve(link.getName()), Path.of(link.getTarget()));
    }
    for (DirectoryNode child : directory.getDirectoriesList()) {
      Path childPath = dir.resolve(child.getName());
      Files.createDirectory(childPath);
      materialize(childPath, child.getDigest(), tree, cas);
    }
  }

  private static void place(Path target, FileNode file, DiskBlobStore cas) throws IOException {
    if (Digests.isEmpty(file.getDigest())) {
      Files.createFile(target);
    } else if (file.getIsExecutable()) {
      Files.copy(cas.blobPath(file.getDigest()), target);
    } else {
      try {
        Files.createLink(target, cas.blobPath(file.getDigest()));
      } catch (FileSystemException tooManyLinks) {
        Files.copy(cas.blobPath(file.getDigest()), target, StandardCopyOption.REPLACE_EXISTING);
      }
      return;
    }
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(file.getIsExecutable() ? "r-xr-xr-x" : "r--r--r--"));
  }

  /** Removes the folder and everything the action left in it. */
  @Override
  public void close() throws IOException {
    new ExecRootsFolder(path).delete();
  }
}
