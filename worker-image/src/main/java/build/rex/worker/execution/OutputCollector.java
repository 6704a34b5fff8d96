package build.rex.worker.execution;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.OutputSymlink;
import build.bazel.remote.execution.v2.SymlinkNode;
import build.bazel.remote.execution.v2.Tree;
import build.rex.storage.BlobStore;
import build.rex.storage.BlobWriter;
import build.rex.storage.Digests;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.transfer.BatchWriter;
import build.rex.storage.transfer.Batches;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Collects an action's outputs from its working directory into an ActionResult and uploads
 * their blobs (files, Trees and, when asked for, Directory messages) to the cluster's CAS.
 * Output symlinks must be relative: the server advertises absolute targets as disallowed.
 */
final class OutputCollector {
  private static final int STREAM_CHUNK = Batches.STREAM_ABOVE;
  /**
   * What each output file is read in while it is hashed, one buffer for all of an action's
   * files. A new 1 MiB buffer per file (stdout and stderr of a few bytes too) made the worker
   * allocate about 1.2 GB, zeroed and collected, in one cold build of the benchmark's workspace:
   * 135 young collections against 34 with this buffer; the hash runs as fast in 64 KiB reads.
   */
  private static final int HASH_CHUNK = 64 << 10;
  private final byte[] hashBuffer = new byte[HASH_CHUNK];
  private final BlobStore cluster;
  private final DiskBlobStore local;
  /** Blobs to upload: file paths for files, bytes for messages. */
  private final Map<Digest, Object> pending = new LinkedHashMap<>();

  OutputCollector(BlobStore cluster, DiskBlobStore local) {
    this.cluster = cluster;
    this.local = local;
  }

  /**
   * Collects the outputs under {@code workingDirectory}; an output reached through a symlink
   * that leaves {@code execRoot} is refused, so an action cannot make the worker read its files.
   */
  void collect(Command command, Path execRoot, Path workingDirectory, ActionResult.Builder result)
      throws IOException, InvalidArgumentException {
    Path realRoot = execRoot.toRealPath();
    boolean modern = command.getOutputPathsCount() > 0;
    List<String> paths = modern ? command.getOutputPathsList() : new ArrayList<>(command.getOutputFilesList());
    if (!modern) {
      paths.addAll(command.getOutputDirectoriesList());
    }
    boolean wantDirectories = command.getOutputDirectoryFormat() != Command.OutputDirectoryFormat.TREE_ONLY;
    for (String relative : paths) {
      Path path = workingDirectory.resolve(relative);
      Path parent = path.getParent();
      if (parent != null && Files.exists(parent) && !parent.toRealPath().startsWith(realRoot)) {
        throw new InvalidArgumentException("output '" + relative + "' lies behind a symlink that leaves the exec root");
      }
      if (Files.isSymbolicLink(path)) {
        String target = Files.readSymbolicLink(path).toString();
        if (target.startsWith("/")) {
          throw new InvalidArgumentException("output '" + relative + "' is a symlink to the absolute path " + target
              + "; this server does not allow absolute symlink targets");
        }
        OutputSymlink link = OutputSymlink.newBuilder().setPath(relative).setTarget(target).build();
        if (modern) {
          result.addOutputSymlinks(link);
        } else if (Files.isDirectory(path)) {
          result.addOutputDirectorySymlinks(link);
        } else {
          result.addOutputFileSymlinks(link);
        }
      } else if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
        result.addOutputFiles(OutputFile.newBuilder().setPath(relative).setDigest(addFile(path))
            .setIsExecutable(executable(path)));
      } else if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
        Tree.Builder tree = Tree.newBuilder();
        Map<Digest, Directory> children = new LinkedHashMap<>();
        Directory root = directory(path, children);
        tree.setRoot(root).addAllChildren(children.values());
        OutputDirectory.Builder output = OutputDirectory.newBuilder().setPath(relative)
            .setTreeDigest(addMessage(tree.build().toByteString()));
        if (wantDirectories) {
          output.setRootDirectoryDigest(addMessage(root.toByteString()));
          children.values().forEach(child -> addMessage(child.toByteString()));
        }
        result.addOutputDirectories(output);
      }
    }
  }

  /** Uploads stdout or stderr; returns its digest. */
  Digest addLog(Path file) throws IOException {
    return addFile(file);
  }

  /** A Directory message for a folder; every distinct subfolder message goes into {@code children}. */
  private Directory directory(Path dir, Map<Digest, Directory> children) throws IOException, InvalidArgumentException {
    Directory.Builder directory = Directory.newBuilder();
    List<Path> entries;
    try (Stream<Path> list = Files.list(dir)) {
      entries = list.sorted(java.util.Comparator.comparing(p -> p.getFileName().toString())).toList();
    }
    for (Path entry : entries) {
      String name = entry.getFileName().toString();
      if (Files.isSymbolicLink(entry)) {
        directory.addSymlinks(SymlinkNode.newBuilder().setName(name).setTarget(Files.readSymbolicLink(entry).toString()));
      } else if (Files.isDirectory(entry)) {
        Directory child = directory(entry, children);
        Digest digest = Digests.of(child);
        children.putIfAbsent(digest, child);
        directory.addDirectories(DirectoryNode.newBuilder().setName(name).setDigest(digest));
      } else if (Files.isRegularFile(entry)) {
        directory.addFiles(FileNode.newBuilder().setName(name).setDigest(addFile(entry))
            .setIsExecutable(executable(entry)));
      }
    }
    return directory.build();
  }

  private Digest addFile(Path file) throws IOException {
    MessageDigest hasher = Digests.newHasher();
    long size = 0;
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(hashBuffer)) > 0; ) {
        hasher.update(hashBuffer, 0, n);
        size += n;
      }
    }
    Digest digest = Digests.of(Digests.hex(hasher.digest()), size);
    pending.putIfAbsent(digest, file);
    return digest;
  }

  private Digest addMessage(ByteString bytes) {
    Digest digest = Digests.of(bytes);
    pending.putIfAbsent(digest, bytes);
    return digest;
  }

  /**
   * Uploads every collected blob the cluster does not have yet to all of its owners, before the
   * result is reported: a copy on this worker alone would die with it. Output files also go
   * into this worker's own CAS by a link, hashed once (here) and never copied: when this worker
   * owns a blob, the upload finds its copy there and sends the bytes only to the other owners;
   * when it does not, the actions that follow here read it. The cluster is asked what it lacks
   * before the links are made, which would otherwise answer for every owner. Files are read only
   * as their batch is sent, so an action with any number of outputs holds one batch in memory.
   */
  void upload() throws IOException {
    Set<Digest> missing = cluster.findMissing(pending.keySet());
    for (Map.Entry<Digest, Object> blob : pending.entrySet()) {
      if (blob.getValue() instanceof Path file) {
        local.adopt(blob.getKey(), file);
      }
    }
    BatchWriter batch = new BatchWriter(cluster);
    for (Digest digest : missing) {
      Object source = pending.get(digest);
      if (Batches.streamed(digest.getSizeBytes())) {
        try (InputStream in = source instanceof ByteString bytes ? bytes.newInput() : Files.newInputStream((Path) source)) {
          stream(digest, in);
        }
      } else if (source instanceof ByteString bytes) {
        batch.add(digest, bytes);
      } else {
        batch.add(digest, ByteString.copyFrom(Files.readAllBytes((Path) source)));
      }
    }
    batch.flush();
  }

  private void stream(Digest digest, InputStream in) throws IOException {
    try (BlobWriter writer = cluster.newWriter(digest)) {
      byte[] buffer = new byte[STREAM_CHUNK];
      for (int n; (n = in.read(buffer)) > 0 && !writer.isComplete(); ) {
        writer.write(ByteString.copyFrom(buffer, 0, n));
      }
      if (!writer.isComplete()) {
        writer.commit();
      }
    }
  }

  /**
   * The access(2) check Files.isExecutable makes, answered without an exception: Files throws
   * one inside for every file that is not executable, most outputs.
   */
  private static boolean executable(Path file) {
    return file.toFile().canExecute();
  }
}
