package build.rex.storage.service;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.GetTreeResponse;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.BlobStore;
import build.rex.storage.InvalidArgumentException;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Walks a Directory tree breadth first, one level per batch read, each distinct directory once.
 * The order is deterministic, so a page token is simply how many directories came before it.
 * Directories missing from the CAS are left out together with everything below them.
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
    long position = 0;
    GetTreeResponse.Builder page = GetTreeResponse.newBuilder();
    int pageBytes = 0;
    Set<Digest> seen = new HashSet<>();
    List<Digest> level = List.of(root);
    seen.add(root);
    boolean first = true;
    while (!level.isEmpty()) {
      Map<Digest, ByteString> found = store.getBatch(level);
      if (first && !found.containsKey(root)) {
        throw new BlobNotFoundException(root);
      }
      first = false;
      List<Digest> next = new ArrayList<>();
      for (Digest digest : level) {
        ByteString bytes = found.get(digest);
        if (bytes == null) {
          continue;
        }
        Directory directory = parse(digest, bytes);
        for (DirectoryNode child : directory.getDirectoriesList()) {
          if (seen.add(child.getDigest())) {
            next.add(child.getDigest());
          }
        }
        if (position++ < skip) {
          continue;
        }
        if (page.getDirectoriesCount() == pageSize || pageBytes + bytes.size() > MAX_PAGE_BYTES) {
          out.accept(page.setNextPageToken(token(position - 1)).build());
          page = GetTreeResponse.newBuilder();
          pageBytes = 0;
        }
        page.addDirectories(directory);
        pageBytes += bytes.size();
      }
      level = next;
    }
    out.accept(page.build());
  }

  private static Directory parse(Digest digest, ByteString bytes) throws InvalidArgumentException {
    try {
      return Directory.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidArgumentException("blob " + digest.getHash() + "/" + digest.getSizeBytes()
          + " in the tree is not a Directory message");
    }
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
