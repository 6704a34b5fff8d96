package build.rex.storage.service;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.OutputFile;
import build.rex.storage.BlobStore;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Puts stdout, stderr and output file contents into an ActionResult when the client asks for
 * them, within a size budget that keeps the response under gRPC's message limit; what does not
 * fit stays a digest only, as the REAPI allows.
 */
public final class ResultInliner {
  /** Most bytes inlined into one response. */
  static final long BUDGET_BYTES = 1 << 20;
  private final BlobStore cas;

  public ResultInliner(BlobStore cas) {
    this.cas = cas;
  }

  public ActionResult inline(ActionResult result, boolean stdout, boolean stderr, Collection<String> outputFiles)
      throws IOException {
    Set<String> inlineFiles = new HashSet<>(outputFiles);
    if (!stdout && !stderr && inlineFiles.isEmpty()) {
      return result;
    }
    List<Digest> wanted = new ArrayList<>();
    long budget = BUDGET_BYTES;
    if (stdout && result.hasStdoutDigest() && result.getStdoutDigest().getSizeBytes() <= budget) {
      wanted.add(result.getStdoutDigest());
      budget -= result.getStdoutDigest().getSizeBytes();
    }
    if (stderr && result.hasStderrDigest() && result.getStderrDigest().getSizeBytes() <= budget) {
      wanted.add(result.getStderrDigest());
      budget -= result.getStderrDigest().getSizeBytes();
    }
    for (OutputFile file : result.getOutputFilesList()) {
      if (inlineFiles.contains(file.getPath()) && file.getDigest().getSizeBytes() <= budget) {
        wanted.add(file.getDigest());
        budget -= file.getDigest().getSizeBytes();
      }
    }
    Map<Digest, ByteString> blobs = cas.getBatch(wanted);
    ActionResult.Builder inlined = result.toBuilder();
    if (stdout && blobs.containsKey(result.getStdoutDigest())) {
      inlined.setStdoutRaw(blobs.get(result.getStdoutDigest()));
    }
    if (stderr && blobs.containsKey(result.getStderrDigest())) {
      inlined.setStderrRaw(blobs.get(result.getStderrDigest()));
    }
    for (OutputFile.Builder file : inlined.getOutputFilesBuilderList()) {
      if (inlineFiles.contains(file.getPath()) && blobs.containsKey(file.getDigest())) {
        file.setContents(blobs.get(file.getDigest()));
      }
    }
    return inlined.build();
  }
}
