package build.rex.worker.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.Platform;
import build.rex.storage.BlobNotFoundException;
import build.rex.storage.Digests;
import build.rex.storage.InvalidArgumentException;
import build.rex.storage.ac.DiskActionCache;
import build.rex.storage.disk.DiskBlobStore;
import build.rex.storage.disk.DiskStoreSettings;
import build.rex.storage.replication.ClusterStorage;
import build.rex.storage.replication.RateLimiter;
import build.rex.storage.service.ByteStreamService;
import build.rex.storage.service.CasService;
import build.rex.storage.service.CasSettings;
import build.rex.v1.Assignment;
import build.rex.worker.sandbox.Sandbox;
import com.google.protobuf.ByteString;
import com.google.protobuf.util.Durations;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The three steps of running an action, each on its own, over real disk stores and processes. */
class ActionStepsTest {
  @TempDir Path dir;
  private DiskBlobStore cluster;
  private DiskBlobStore local;
  private Path execRoots;
  private final ByteString a = ByteString.copyFromUtf8("file a\n");
  private final ByteString b = ByteString.copyFromUtf8("file b\n");
  private Directory sub;
  private Directory root;

  @BeforeEach
  void stores() throws Exception {
    cluster = DiskBlobStore.open(dir.resolve("cluster"), new DiskStoreSettings(1 << 24, 0.8, 0.9, false));
    local = DiskBlobStore.open(dir.resolve("local"), new DiskStoreSettings(1 << 24, 0.8, 0.9, false));
    execRoots = Files.createDirectories(dir.resolve("local").resolve("exec"));
    cluster.put(Digests.of(a), a);
    cluster.put(Digests.of(b), b);
    sub = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("b.txt").setDigest(Digests.of(b))).build();
    root = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("a.txt").setDigest(Digests.of(a)))
        .addDirectories(DirectoryNode.newBuilder().setName("sub").setDigest(Digests.of(sub))).build();
    cluster.put(Digests.of(sub), sub.toByteString());
    cluster.put(Digests.of(root), root.toByteString());
  }

  private static Command command(String script) {
    return Command.newBuilder().addArguments("/bin/sh").addArguments("-c").addArguments(script)
        .addEnvironmentVariables(Command.EnvironmentVariable.newBuilder().setName("PATH").setValue("/usr/bin:/bin"))
        .addOutputPaths("out/result.txt").build();
  }

  private static Assignment assignment(Directory rootDirectory, Command command, boolean inline, Directory... others) {
    Assignment.Builder assignment = Assignment.newBuilder().setOperation("operations/x/op").setAttempt(1)
        .setAction(Action.newBuilder().setInputRootDigest(Digests.of(rootDirectory)))
        .setCommand(command).setTimeout(Durations.fromSeconds(30)).setExecutorId("e");
    if (inline) {
      assignment.addInputDirectories(rootDirectory).addInputDirectoryDigests(Digests.of(rootDirectory));
      for (Directory other : others) {
        assignment.addInputDirectories(other).addInputDirectoryDigests(Digests.of(other));
      }
    }
    return assignment.build();
  }

  @Test
  void theInputStepLaysOutTheTreeWithItsOutputFoldersAndRemovesItOnClose() throws Exception {
    for (boolean inline : new boolean[] {true, false}) {
      InputStep step = new InputStep(cluster, local, execRoots);
      Path layout;
      try (InputStep.Staged staged = step.stage(assignment(root, command("true"), inline, sub), "run-" + inline)) {
        layout = staged.root().path;
        assertEquals("file a\n", Files.readString(layout.resolve("a.txt")));
        assertEquals("file b\n", Files.readString(layout.resolve("sub/b.txt")));
        assertTrue(Files.isDirectory(staged.workingDirectory().resolve("out")), "the output's folder is made");
        assertEquals(Set.of(), local.findMissing(List.of(Digests.of(a), Digests.of(b))), "fetched into this worker");
      }
      assertFalse(Files.exists(layout), "closing removes the exec root");
    }
  }

  @Test
  void outputFoldersAreMadeAtAnyDepthBesideInputsAndAnInputFileInTheWayIsNamed() throws Exception {
    InputStep step = new InputStep(cluster, local, execRoots);
    Command deep = command("true").toBuilder().clearOutputPaths()
        .addOutputPaths("sub/new/deeper/x.o").addOutputPaths("sub/new/other/y.o").addOutputPaths("top.txt").build();
    try (InputStep.Staged staged = step.stage(assignment(root, deep, true, sub), "deep")) {
      Path work = staged.workingDirectory();
      assertTrue(Files.isDirectory(work.resolve("sub/new/deeper")) && Files.isDirectory(work.resolve("sub/new/other")));
      assertEquals("file b\n", Files.readString(work.resolve("sub/b.txt")), "the input folder it went through is kept");
    }
    Command blocked = command("true").toBuilder().clearOutputPaths().addOutputPaths("a.txt/inside/x.o").build();
    InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
        () -> step.stage(assignment(root, blocked, true, sub), "blocked"));
    assertTrue(e.getMessage().contains("'a.txt'"), e.getMessage());
  }

  @Test
  void theOutputStepTellsExecutableOutputsFromOthers() throws Exception {
    Command two = command("true").toBuilder().clearOutputPaths().addOutputPaths("out/tool").addOutputPaths("out/data")
        .build();
    Assignment assignment = assignment(root, two, true, sub);
    try (InputStep.Staged staged = new InputStep(cluster, local, execRoots).stage(assignment, "modes")) {
      Path tool = Files.writeString(staged.workingDirectory().resolve("out/tool"), "#!/bin/sh\n");
      assertTrue(tool.toFile().setExecutable(true));
      Files.writeString(staged.workingDirectory().resolve("out/data"), "data\n");
      ActionResult.Builder done = new OutputStep(cluster, local).collect(assignment, staged,
          new CommandRunner.Outcome(0, false, false), Files.writeString(dir.resolve("o"), ""),
          Files.writeString(dir.resolve("e"), ""));
      assertEquals(2, done.getOutputFilesCount());
      for (var file : done.getOutputFilesList()) {
        assertEquals(file.getPath().equals("out/tool"), file.getIsExecutable(), file.getPath());
      }
    }
  }

  @Test
  void aTreeReadHereIsCheckedAndAMissingInputIsNamed() throws Exception {
    Directory badlyNamed = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("a/b").setDigest(Digests.of(a)))
        .build();
    cluster.put(Digests.of(badlyNamed), badlyNamed.toByteString());
    InputStep step = new InputStep(cluster, local, execRoots);
    assertThrows(InvalidArgumentException.class, () -> step.stage(assignment(badlyNamed, command("true"), false), "read"));
    Directory missingFile = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("gone")
        .setDigest(Digests.of(ByteString.copyFromUtf8("never uploaded")))).build();
    BlobNotFoundException missing = assertThrows(BlobNotFoundException.class,
        () -> step.stage(assignment(missingFile, command("true"), true), "missing"));
    assertEquals(Digests.of(ByteString.copyFromUtf8("never uploaded")), missing.digest());
    try (var files = Files.list(execRoots)) {
      assertEquals(0, files.count(), "a failed step leaves no exec root behind");
    }
  }

  @Test
  void theCommandStepRunsTheCommandAndTimesIt() throws Exception {
    try (Sandbox sandbox = Sandbox.probe(new Sandbox.Settings(false, "nobody", 64, 1024, Path.of("/sys/fs/cgroup"),
        dir.resolve("bin")))) {
      InputStep inputs = new InputStep(cluster, local, execRoots);
      ExecutedActionMetadata.Builder metadata = ExecutedActionMetadata.newBuilder();
      Assignment assignment = assignment(root, command("cat sub/b.txt > out/result.txt; echo said; exit 3"), true, sub);
      try (InputStep.Staged staged = inputs.stage(assignment, "cmd")) {
        CommandStep.Ran ran = new CommandStep(sandbox).run(assignment, Platform.getDefaultInstance(), new CommandRunner(),
            staged, "cmd-1", dir.resolve("stdout"), dir.resolve("stderr"), metadata);
        assertEquals(3, ran.outcome().exitCode());
        assertFalse(ran.outcome().timedOut());
        assertEquals("said\n", Files.readString(dir.resolve("stdout")));
        assertEquals("file b\n", Files.readString(staged.workingDirectory().resolve("out/result.txt")));
        assertTrue(metadata.hasExecutionStartTimestamp() && metadata.hasExecutionCompletedTimestamp());
        assertEquals(1, metadata.getAuxiliaryMetadataCount(), "the resource use is recorded");
      }
    }
  }

  @Test
  void limitsComeFromTheExecutorAndNetworkFromTheAction() {
    Platform executor = Platform.newBuilder()
        .addProperties(Platform.Property.newBuilder().setName("cpu").setValue("2"))
        .addProperties(Platform.Property.newBuilder().setName("memory").setValue("1Gi")).build();
    Platform action = Platform.newBuilder()
        .addProperties(Platform.Property.newBuilder().setName("network").setValue("allowed")).build();
    assertEquals(new Sandbox.Limits(2, 1L << 30, true), CommandStep.limits(executor, action));
    assertEquals(new Sandbox.Limits(0, 0, false), CommandStep.limits(Platform.getDefaultInstance(), Platform.getDefaultInstance()));
  }

  @Test
  void theOutputStepUploadsOutputsAndLogsButNoOutputsOfATimedOutRun() throws Exception {
    Path stdout = Files.writeString(dir.resolve("stdout"), "out\n");
    Path stderr = Files.writeString(dir.resolve("stderr"), "err\n");
    Assignment assignment = assignment(root, command("true"), true, sub);
    try (InputStep.Staged staged = new InputStep(cluster, local, execRoots).stage(assignment, "outputs")) {
      Files.writeString(staged.workingDirectory().resolve("out/result.txt"), "made\n");
      OutputStep step = new OutputStep(cluster, local);
      ActionResult.Builder done = step.collect(assignment, staged, new CommandRunner.Outcome(0, false, false), stdout, stderr);
      assertEquals(1, done.getOutputFilesCount());
      Digest made = done.getOutputFiles(0).getDigest();
      assertEquals("made\n", cluster.get(made).toStringUtf8());
      assertTrue(Files.isSameFile(staged.workingDirectory().resolve("out/result.txt"), local.blobPath(made)),
          "the worker's own copy is the output's file, linked, not copied");
      assertTrue(Files.isSameFile(stdout, local.blobPath(done.getStdoutDigest())));
      assertEquals("out\n", cluster.get(done.getStdoutDigest()).toStringUtf8());
      assertEquals("err\n", cluster.get(done.getStderrDigest()).toStringUtf8());
      ActionResult.Builder timedOut = step.collect(assignment, staged, new CommandRunner.Outcome(137, true, false),
          stdout, stderr);
      assertEquals(0, timedOut.getOutputFilesCount(), "a killed run's outputs may be half written");
      assertEquals(137, timedOut.getExitCode());
      assertEquals(done.getStdoutDigest(), timedOut.getStdoutDigest());
    }
  }

  /**
   * The worker owns the outputs with one other member: when the step returns (and the result
   * may be reported), the other owner has every blob already, sent by the step itself, not left
   * to a background repair that would die with this worker.
   */
  @Test
  void theOutputStepPutsEachOutputOnEveryOwnerBeforeItReturns() throws Exception {
    DiskBlobStore peer = DiskBlobStore.open(dir.resolve("peer"), new DiskStoreSettings(1 << 24, 0.8, 0.9, false));
    Server peerServer = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new CasService(peer, CasSettings.DEFAULTS))
        .addService(new ByteStreamService(peer, Duration.ofMinutes(1)))
        .build().start();
    String peerAddress = "127.0.0.1:" + peerServer.getPort();
    ManagedChannel peerChannel = NettyChannelBuilder.forTarget(peerAddress).usePlaintext().build();
    try (ClusterStorage owners = new ClusterStorage(address -> peerChannel, addresses -> { }, "self", local,
        new DiskActionCache(dir.resolve("ac"), 1 << 20), new RateLimiter(0))) {
      owners.update(List.of(new ClusterStorage.Member("self", "127.0.0.1:1", false),
          new ClusterStorage.Member("peer", peerAddress, false)), 2);
      Path stdout = Files.writeString(dir.resolve("stdout"), "owned out\n");
      Path stderr = Files.writeString(dir.resolve("stderr"), "owned err\n");
      Path big = dir.resolve("big");
      Files.write(big, new byte[3 << 20]); // streamed, not batched
      Command command = command("true").toBuilder().clearOutputPaths().addOutputPaths("out/big")
          .addOutputPaths("out/result.txt").build(); // sorted, as the REAPI asks
      Assignment assignment = assignment(root, command, true, sub);
      try (InputStep.Staged staged = new InputStep(cluster, local, execRoots).stage(assignment, "owned")) {
        Files.writeString(staged.workingDirectory().resolve("out/result.txt"), "owned output\n");
        Files.copy(big, staged.workingDirectory().resolve("out/big"));
        ActionResult.Builder done = new OutputStep(owners.cas(), local).collect(assignment, staged,
            new CommandRunner.Outcome(0, false, false), stdout, stderr);
        List<Digest> blobs = List.of(done.getOutputFiles(0).getDigest(), done.getOutputFiles(1).getDigest(),
            done.getStdoutDigest(), done.getStderrDigest());
        assertEquals(0, owners.repairer().pending() + owners.repairer().repaired(),
            "no copy is left to the repairer");
        assertEquals(Set.of(), peer.findMissing(blobs), "the other owner has every blob when the step returns");
        assertEquals(Set.of(), local.findMissing(blobs), "and this worker, its owner too");
        assertTrue(Files.isSameFile(staged.workingDirectory().resolve("out/big"), local.blobPath(blobs.get(0))),
            "this worker's copy is still the output's own file");
      }
    } finally {
      peerChannel.shutdownNow();
      peerServer.shutdownNow();
    }
  }
}
