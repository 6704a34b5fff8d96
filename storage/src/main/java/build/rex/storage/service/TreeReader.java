package build.rex.storage.service;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.GetTreeResponse;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.MerkleTree;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.function.Consumer;

/**
 * Streams a Directory tree in pages. The tree's order is deterministic, so a page token is
 * simply how many directories came before it. Missing directories are left out together with
 * everything below them.
 */
final class TreeReader {
  /** Keeps each response message well below gRPC's 4 MiB limit. */
  private static final int MAX_PAGE_BYTES = 2 << 20;
  private final BlobStore store;

  TreeReader(BlobStore store) {
    this.store = store;
  }

  void stream(Digest root, String pageToken, int pageSize, Consumer<GetTreeResponse> out)
      throws IOException, InvalidArgumentException {
    long skip = parseToken(pageToken);
    MerkleTree tree = MerkleTree.load(store, root);
    if (tree.missingDirectories().contains(root)) {
      throw new BlobNotFoundException(root);
    }
    long position = 0;
    GetTreeResponse.Builder page = GetTreeResponse.newBuilder();
    int pageBytes = 0;
    for (Directory directory : tree.directories().values()) {
      if (position++ < skip) {
        continue;
      }
      int size = directory.getSerializedSize();
      if (page.getDirectoriesCount() == pageSize || pageBytes + size > MAX_PAGE_BYTES) {
        out.accept(page.setNextPageToken(token(position - 1)).build());
        page = GetTreeResponse.newBuilder();
        pageBytes = 0;
      }
      page.addDirectories(directory);
      pageBytes += size;
    }
    out.accept(page.build());
  }

  private static String token(long position) {
    return Base64.getUrlEncoder().withoutPadding()
        .encodeToString(("offset:" + position).getBytes(StandardCharsets.UTF_8));
  }

  private static long parseToken(String token) throws InvalidArgumentException {
    if (token.isEmpty()) {
      return 0;
    }
    try {
      String decoded = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (decoded.startsWith("offset:")) {
        long offset = Long.parseLong(decoded.substring("offset:".length()));
        if (offset >= 0) {
          return offset;
        }
      }
    } catch (IllegalArgumentException e) {
      // reported below
    }
    throw new InvalidArgumentException("page_token '" + token + "' was not issued by this server");
  }
}
