package build.rex.storage;

import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Directory tree read from the CAS breadth first, one batch read per level, each distinct
 * directory once, in a deterministic order (root first). Directories that are missing are
 * recorded, and nothing below them is read.
 */
public record MerkleTree(Digest root, Map<Digest, Directory> directories, Set<Digest> missingDirectories) {

  public static MerkleTree load(BlobStore cas, Digest root) throws IOException, InvalidArgumentException {
    return load(cas, root, Map.of());
  }

  /**
   * As {@link #load(BlobStore, Digest)}, taking directories from {@code atHand} (blobs the
   * caller read already, e.g. together with the Command in one batch) before asking the CAS.
   */
  public static MerkleTree load(BlobStore cas, Digest root, Map<Digest, ByteString> atHand)
      throws IOException, InvalidArgumentException {
    Digests.check("input_root_digest", root);
    Map<Digest, Directory> directories = new LinkedHashMap<>();
    Set<Digest> missing = new HashSet<>();
    Set<Digest> seen = new HashSet<>(List.of(root));
    List<Digest> level = List.of(root);
    int depth = 0;
    while (!level.isEmpty()) {
      if (++depth > InputTreeValidator.MAX_DEPTH) {
        throw new InvalidArgumentException("the input tree is more than " + InputTreeValidator.MAX_DEPTH + " levels deep");
      }
      Map<Digest, ByteString> found = read(cas, level, atHand);
      List<Digest> next = new ArrayList<>();
      for (Digest digest : level) {
        ByteString bytes = found.get(digest);
        if (bytes == null) {
          missing.add(digest);
          continue;
        }
        Directory directory = parse(digest, bytes);
        directories.put(digest, directory);
        if (directories.size() > InputTreeValidator.MAX_ENTRIES) {
          throw new InvalidArgumentException("the input tree has more than " + InputTreeValidator.MAX_ENTRIES + " directories");
        }
        for (DirectoryNode child : directory.getDirectoriesList()) {
          if (seen.add(child.getDigest())) {
            next.add(child.getDigest());
          }
        }
      }
      level = next;
    }
    return new MerkleTree(root, directories, missing);
  }

  /** One level's blobs: those at hand, and the rest from the CAS in one batch read. */
  private static Map<Digest, ByteString> read(BlobStore cas, List<Digest> level, Map<Digest, ByteString> atHand)
      throws IOException {
    List<Digest> toRead = level.stream().filter(d -> !atHand.containsKey(d)).toList();
    if (toRead.size() == level.size()) {
      return cas.getBatch(level);
    }
    Map<Digest, ByteString> found = new java.util.HashMap<>(toRead.isEmpty() ? Map.of() : cas.getBatch(toRead));
    level.stream().filter(atHand::containsKey).forEach(d -> found.put(d, atHand.get(d)));
    return found;
  }

  /**
   * A tree from Directory messages already at hand, root first (as {@link #load} orders them);
   * digests are computed here, so nothing is trusted that the CAS would not also say.
   */
  public static MerkleTree of(Digest root, List<Directory> rootFirst) throws InvalidArgumentException {
    Map<Digest, Directory> directories = new LinkedHashMap<>();
    for (Directory directory : rootFirst) {
      checkDigests(directory);
      directories.put(Digests.of(directory), directory);
    }
    if (!directories.containsKey(root)) {
      throw new InvalidArgumentException("the input directories sent with the action do not contain its root");
    }
    Set<Digest> missing = new HashSet<>();
    for (Directory directory : rootFirst) {
      for (DirectoryNode child : directory.getDirectoriesList()) {
        if (!directories.containsKey(child.getDigest())) {
          missing.add(child.getDigest());
        }
      }
    }
    return new MerkleTree(root, directories, missing);
  }

  /** The Directory messages by digest, root first; empty when they add up to more than {@code maxBytes}. */
  public Map<Digest, Directory> directoriesUpTo(long maxBytes) {
    long total = 0;
    for (Directory directory : directories.values()) {
      total += directory.getSerializedSize();
      if (total > maxBytes) {
        return Map.of();
      }
    }
    return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(directories));
  }

  /**
   * A tree from Directory messages with their digests, root first, as a party that read and
   * checked them sent them (the scheduler, over the cluster's mutual TLS): nothing is hashed or
   * checked again.
   */
  public static MerkleTree trusted(Digest root, List<Digest> digests, List<Directory> rootFirst) {
    if (digests.size() != rootFirst.size()) {
      throw new IllegalArgumentException(digests.size() + " digests for " + rootFirst.size() + " directories");
    }
    Map<Digest, Directory> directories = new LinkedHashMap<>();
    for (int i = 0; i < digests.size(); i++) {
      directories.put(digests.get(i), rootFirst.get(i));
    }
    Set<Digest> missing = new HashSet<>();
    for (Directory directory : rootFirst) {
      for (DirectoryNode child : directory.getDirectoriesList()) {
        if (!directories.containsKey(child.getDigest())) {
          missing.add(child.getDigest());
        }
      }
    }
    if (!directories.containsKey(root)) {
      missing.add(root);
    }
    return new MerkleTree(root, directories, missing);
  }

  /** Parses a Directory and checks every digest in it: they become file names and lookups. */
  private static Directory parse(Digest digest, ByteString bytes) throws InvalidArgumentException {
    Directory directory;
    try {
      directory = Directory.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidArgumentException("blob " + Digests.toString(digest) + " in the tree is not a Directory message");
    }
    checkDigests(directory);
    return directory;
  }

  private static void checkDigests(Directory directory) throws InvalidArgumentException {
    for (FileNode file : directory.getFilesList()) {
      Digests.check("file '" + file.getName() + "' digest", file.getDigest());
    }
    for (DirectoryNode child : directory.getDirectoriesList()) {
      Digests.check("directory '" + child.getName() + "' digest", child.getDigest());
    }
  }


  /** Every file blob the present directories name. */
  public Set<Digest> fileDigests() {
    Set<Digest> files = new HashSet<>();
    for (Directory directory : directories.values()) {
      for (FileNode file : directory.getFilesList()) {
        files.add(file.getDigest());
      }
    }
    return files;
  }
}
