package build.rex.storage.ac;

import build.bazel.remote.execution.v2.ActionResult;
import build.rex.storage.Digests;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.UUID;

/**
 * Action Cache entries as files: {@code ac/<instance key>/<xx>/<hash>-<size>}, each an encoded
 * ActionResult, written to a temporary file, synced and renamed so a crash never leaves half an
 * entry. The instance key is a hash of the instance name, so any name maps to a safe directory.
 */
public final class DiskActionCache implements ActionCache {
  private final Path root;
  private final Path tmp;

  public DiskActionCache(Path root) throws IOException {
    this.root = root.resolve("ac");
    this.tmp = root.resolve("tmp");
    Files.createDirectories(this.root);
    Files.createDirectories(tmp);
  }

  private Path pathOf(ActionKey key) {
    String instanceKey = Digests.of(ByteString.copyFrom(key.instanceName(), StandardCharsets.UTF_8))
        .getHash().substring(0, 16);
    String hash = key.actionDigest().getHash();
    return root.resolve(instanceKey).resolve(hash.substring(0, 2))
        .resolve(hash + "-" + key.actionDigest().getSizeBytes());
  }

  @Override
  public Optional<ActionResult> get(ActionKey key) throws IOException {
    try {
      return Optional.of(ActionResult.parseFrom(Files.readAllBytes(pathOf(key))));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  @Override
  public void put(ActionKey key, ActionResult result) throws IOException {
    Path target = pathOf(key);
    Files.createDirectories(target.getParent());
    Path staging = tmp.resolve("ac." + UUID.randomUUID());
    try (FileChannel channel = FileChannel.open(staging, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      channel.write(result.toByteString().asReadOnlyByteBuffer());
      channel.force(false);
    }
    Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
