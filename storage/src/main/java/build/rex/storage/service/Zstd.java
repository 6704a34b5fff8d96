package build.rex.storage.service;

import com.google.protobuf.ByteString;

/** Whole-buffer zstd for batch calls; ByteStream uses the streaming classes. */
final class Zstd {
  private Zstd() {}

  static ByteString decompress(ByteString compressed, long uncompressedSize) {
    return ByteString.copyFrom(com.github.luben.zstd.Zstd.decompress(compressed.toByteArray(), Math.toIntExact(uncompressedSize)));
  }
}
