package build.rex.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.rex.server.security.AuthConfig;
import build.rex.v1.AdminServiceGrpc;
import build.rex.v1.ListWorkersRequest;
import build.rex.server.security.BearerTokenAuthenticator;
import build.rex.pki.CertificateAuthority;
import build.rex.server.security.LocalCertificates;
import build.rex.storage.Digests;
import com.google.longrunning.Operation;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.grpc.stub.MetadataUtils;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client port with TLS and every way of authenticating on, a worker with one executor, and
 * the cluster's own mutual TLS: who gets in, with what rights, within what limits, what a
 * renewed certificate does, and that nobody from outside can use the internal ports.
 */
class SecurityTest {
  @TempDir Path dataDir;
  private LocalCertificates certificates;
  private LocalStack stack;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final String builderToken = "builder-secret";
  private final String readerToken = "reader-secret";
  private final String teamToken = "team-secret";

  @BeforeEach
  void start() throws Exception {
    certificates = LocalCertificates.inFolder(dataDir.resolve("tls"));
    writeTokens(List.of(entry("builder", builderToken), entry("reader", readerToken), entry("team-a", teamToken)));
    AuthConfig auth = certificates.auth();
    auth.grants = List.of(
        grant(List.of(LocalCertificates.CLIENT_IDENTITY, "builder"), List.of("*"), List.of("read", "write", "execute")),
        grant(List.of("reader"), List.of("*"), List.of("read")),
        grant(List.of("team-a"), List.of("team-a/*"), List.of("read", "write", "execute")));
    stack = new LocalStack(dataDir, 64 << 20, 1, 1, 1, config -> {
      config.tls = certificates.publicTls();
      config.auth = auth;
      config.limits.executionsPerClient = 1;
    });
  }

  @AfterEach
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    stack.close();
  }

  @Test
  void aClientCertificateFromTheClientCaIsAnIdentityThatMayBuild() throws Exception {
    ManagedChannel channel = publicChannel(withClientCertificate());
    ExecuteResponse response = executeAndWait(channel, "", "echo hello");
    assertEquals(0, response.getResult().getExitCode(), response.toString());
  }

  @Test
  void withoutCredentialsEveryCallIsUnauthenticated() throws Exception {
    ManagedChannel channel = publicChannel(trustingTheServer());
    assertCode(Status.Code.UNAUTHENTICATED, "needs credentials", () -> CapabilitiesGrpc.newBlockingStub(channel)
        .getCapabilities(GetCapabilitiesRequest.getDefaultInstance()));
    assertCode(Status.Code.UNAUTHENTICATED, "needs credentials", () -> cas(channel).findMissingBlobs(
        FindMissingBlobsRequest.newBuilder().addBlobDigests(Digests.of(ByteString.copyFromUtf8("x"))).build()));
    assertCode(Status.Code.UNAUTHENTICATED, "not valid", () -> cas(withToken(channel, "guess")).findMissingBlobs(
        FindMissingBlobsRequest.getDefaultInstance()));
    // A plaintext client on the TLS port fails at once instead of hanging.
    ManagedChannel plain = track(NettyChannelBuilder.forAddress("127.0.0.1", stack.scheduler.grpcPort()).usePlaintext().build());
    assertCode(Status.Code.UNAVAILABLE, "", () -> CapabilitiesGrpc.newBlockingStub(plain)
        .withDeadlineAfter(20, TimeUnit.SECONDS).getCapabilities(GetCapabilitiesRequest.getDefaultInstance()));
  }

  @Test
  void rightsAreGrantedPerIdentityAndInstance() throws Exception {
    ManagedChannel tls = publicChannel(trustingTheServer());
    ByteString blob = ByteString.copyFromUtf8("shared blob");
    upload(withToken(tls, builderToken), "", blob);

    io.grpc.Channel reader = withToken(tls, readerToken);
    assertEquals(blob, cas(reader).batchReadBlobs(BatchReadBlobsRequest.newBuilder().addDigests(Digests.of(blob)).build())
        .getResponses(0).getData());
    assertCode(Status.Code.PERMISSION_DENIED, "reader may not write on instance ''",
        () -> upload(reader, "", ByteString.copyFromUtf8("not allowed")));
    assertCode(Status.Code.PERMISSION_DENIED, "reader may not execute", () -> ExecutionGrpc.newBlockingStub(reader)
        .execute(ExecuteRequest.newBuilder().setActionDigest(Digests.of(blob)).build()).hasNext());

    io.grpc.Channel team = withToken(tls, teamToken);
    upload(team, "team-a/main", ByteString.copyFromUtf8("team blob"));
    assertCode(Status.Code.PERMISSION_DENIED, "team-a may not write on instance 'team-b'",
        () -> upload(team, "team-b", ByteString.copyFromUtf8("team blob")));
    assertCode(Status.Code.PERMISSION_DENIED, "team-a may not read on instance ''",
        () -> cas(team).batchReadBlobs(BatchReadBlobsRequest.newBuilder().addDigests(Digests.of(blob)).build()));

    String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + stack.scheduler.adminPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    assertTrue(metrics.matches("(?s).*rex_auth_refused_total\\{code=\"PERMISSION_DENIED\",method=\"[^\"]+\"} [1-9].*"),
        "refusals are counted");
  }

  @Test
  void aChangedTokensFileTakesEffectWithoutARestart() throws Exception {
    io.grpc.Channel newcomer = withToken(publicChannel(trustingTheServer()), "newcomer-secret");
    assertCode(Status.Code.UNAUTHENTICATED, "not valid", () -> cas(newcomer).findMissingBlobs(FindMissingBlobsRequest.getDefaultInstance()));
    writeTokens(List.of(entry("builder", builderToken), entry("builder", "newcomer-secret")));
    Await.until("the new token to be accepted", () -> {
      try {
        cas(newcomer).findMissingBlobs(FindMissingBlobsRequest.getDefaultInstance());
        return true;
      } catch (StatusRuntimeException e) {
        return false;
      }
    });
  }

  @Test
  void aClientOverItsExecutionLimitGetsResourceExhausted() throws Exception {
    io.grpc.Channel builder = withToken(publicChannel(trustingTheServer()), builderToken);
    Iterator<Operation> running = execute(builder, "", "sleep 2; echo done");
    running.next(); // the first execution is in flight
    assertCode(Status.Code.RESOURCE_EXHAUSTED, "too many executions", () -> executeAndWait(builder, "", "echo second"));
    while (running.hasNext()) {
      running.next();
    }
    assertEquals(0, executeAndWait(builder, "", "echo third").getResult().getExitCode(), "the limit is given back");
  }

  @Test
  void aRenewedCertificateIsServedToNewConnectionsWhileOpenStreamsComplete() throws Exception {
    X509Certificate before = servedCertificate();
    ManagedChannel client = publicChannel(withClientCertificate());
    Iterator<Operation> running = execute(client, "", "sleep 4; echo survived");
    running.next();

    CertificateAuthority ca = CertificateAuthority.load(certificates.caCertificate(), certificates.caKey());
    CertificateAuthority.Issued renewed = ca.issue("localhost", List.of("localhost", "127.0.0.1"), Duration.ofDays(30));
    Path staging = dataDir.resolve("renewed");
    Files.createDirectories(staging);
    renewed.write(staging.resolve("server.crt"), staging.resolve("server.key"));
    // Replaced the way a Secret volume is: each file swapped in whole.
    Files.move(staging.resolve("server.key"), certificates.serverKey(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.move(staging.resolve("server.crt"), certificates.serverCertificate(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    Await.until("new connections to see the renewed certificate", () -> {
      try {
        return servedCertificate().getSerialNumber().equals(renewed.certificate().getSerialNumber());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertNotEquals(before.getSerialNumber(), renewed.certificate().getSerialNumber());
    Operation last = null;
    while (running.hasNext()) {
      last = running.next();
    }
    ExecuteResponse response = last.getResponse().unpack(ExecuteResponse.class);
    assertEquals(0, response.getResult().getExitCode(), "the stream opened before the renewal completed: " + response);
    assertEquals(0, executeAndWait(publicChannel(withClientCertificate()), "", "echo after").getResult().getExitCode());
  }

  @Test
  void internalPortsRefuseEveryoneWithoutAnInternalCertificate() throws Exception {
    CertificateAuthority otherCa = CertificateAuthority.create("someone else's CA", Duration.ofDays(1));
    Path other = dataDir.resolve("other");
    Files.createDirectories(other);
    otherCa.issue("rex-internal", List.of("127.0.0.1"), Duration.ofDays(1)).write(other.resolve("c.crt"), other.resolve("c.key"));
    ChannelCredentials otherCaCertificate = TlsChannelCredentials.newBuilder()
        .keyManager(other.resolve("c.crt").toFile(), other.resolve("c.key").toFile())
        .trustManager(InsecureTrustManagerFactory.INSTANCE.getTrustManagers()).build();
    ChannelCredentials publicCertificate = TlsChannelCredentials.newBuilder()
        .keyManager(certificates.clientCertificate().toFile(), certificates.clientKey().toFile())
        .trustManager(InsecureTrustManagerFactory.INSTANCE.getTrustManagers()).build();
    ChannelCredentials tlsOnly = TlsChannelCredentials.newBuilder()
        .trustManager(InsecureTrustManagerFactory.INSTANCE.getTrustManagers()).build();

    for (int port : new int[] {stack.worker.grpcPort(), stack.scheduler.internalPort()}) {
      // What each port serves: the worker its CAS, the scheduler's internal port the admin API.
      Function<io.grpc.Channel, Object> probe = port == stack.worker.grpcPort()
          ? channel -> cas(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
              .findMissingBlobs(FindMissingBlobsRequest.getDefaultInstance())
          : channel -> AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
              .listWorkers(ListWorkersRequest.getDefaultInstance());
      ManagedChannel insider = track(stack.internalChannel(port));
      assertTrue(probe.apply(insider) != null, "the cluster's own certificate gets in");
      List<io.grpc.Channel> outsiders = List.of(
          track(NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build()),
          track(NettyChannelBuilder.forTarget("127.0.0.1:" + port, otherCaCertificate).build()),
          track(NettyChannelBuilder.forTarget("127.0.0.1:" + port, publicCertificate).build()),
          withToken(track(NettyChannelBuilder.forTarget("127.0.0.1:" + port, tlsOnly).build()), builderToken));
      for (io.grpc.Channel outsider : outsiders) {
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> probe.apply(outsider));
        assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), "port " + port + ": " + refused);
      }
    }
  }

  // --- helpers ---

  private Function<TlsChannelCredentials.Builder, TlsChannelCredentials.Builder> trustingTheServer() {
    return builder -> builder;
  }

  private Function<TlsChannelCredentials.Builder, TlsChannelCredentials.Builder> withClientCertificate() {
    return builder -> {
      try {
        return builder.keyManager(certificates.clientCertificate().toFile(), certificates.clientKey().toFile());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
  }

  /** A TLS channel to the client port that trusts the generated CA, as Bazel with --tls_certificate. */
  private ManagedChannel publicChannel(Function<TlsChannelCredentials.Builder, TlsChannelCredentials.Builder> extra)
      throws Exception {
    ChannelCredentials credentials = extra.apply(TlsChannelCredentials.newBuilder()
        .trustManager(certificates.caCertificate().toFile())).build();
    return track(NettyChannelBuilder.forTarget("127.0.0.1:" + stack.scheduler.grpcPort(), credentials).build());
  }

  /** The channel, its calls carrying {@code Authorization: Bearer token} (closed with the channel underneath). */
  private static io.grpc.Channel withToken(io.grpc.Channel channel, String token) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private ManagedChannel track(ManagedChannel channel) {
    channels.add(channel);
    return channel;
  }

  private static ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub cas(io.grpc.Channel channel) {
    return ContentAddressableStorageGrpc.newBlockingStub(channel);
  }

  private static Digest upload(io.grpc.Channel channel, String instance, ByteString blob) {
    cas(channel).batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder().setInstanceName(instance)
        .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(Digests.of(blob)).setData(blob)).build());
    return Digests.of(blob);
  }

  private static Digest upload(io.grpc.Channel channel, String instance, Message message) {
    return upload(channel, instance, message.toByteString());
  }

  private static Iterator<Operation> execute(io.grpc.Channel channel, String instance, String script) {
    Command command = Command.newBuilder().addArguments("/bin/sh").addArguments("-c").addArguments(script)
        .addEnvironmentVariables(Command.EnvironmentVariable.newBuilder().setName("PATH").setValue("/usr/bin:/bin")).build();
    Action action = Action.newBuilder().setCommandDigest(upload(channel, instance, command))
        .setInputRootDigest(upload(channel, instance, Directory.getDefaultInstance())).setDoNotCache(true).build();
    return ExecutionGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
        .execute(ExecuteRequest.newBuilder().setInstanceName(instance).setActionDigest(upload(channel, instance, action))
            .setSkipCacheLookup(true).build());
  }

  private static ExecuteResponse executeAndWait(io.grpc.Channel channel, String instance, String script) throws Exception {
    Iterator<Operation> stream = execute(channel, instance, script);
    Operation last = null;
    while (stream.hasNext()) {
      last = stream.next();
    }
    return last.getResponse().unpack(ExecuteResponse.class);
  }

  private static void assertCode(Status.Code code, String messagePart, org.junit.jupiter.api.function.Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.toString());
    String description = String.valueOf(e.getStatus().getDescription());
    assertTrue(description.contains(messagePart), "'" + description + "' lacks '" + messagePart + "'");
  }

  /** The certificate the client port shows a new connection right now. */
  private X509Certificate servedCertificate() throws Exception {
    X509Certificate[] seen = new X509Certificate[1];
    TrustManager recorder = new X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) {}

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {
        seen[0] = chain[0];
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    };
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {recorder}, null);
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", stack.scheduler.grpcPort())) {
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setApplicationProtocols(new String[] {"h2"});
      socket.setSSLParameters(parameters);
      socket.startHandshake();
    }
    return seen[0];
  }

  private void writeTokens(List<BearerTokenAuthenticator.Entry> entries) throws Exception {
    Path file = certificates.tokensFile();
    Path staging = file.resolveSibling("tokens.staging");
    Files.writeString(staging, BearerTokenAuthenticator.render(entries));
    Files.move(staging, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  private static BearerTokenAuthenticator.Entry entry(String identity, String token) {
    return new BearerTokenAuthenticator.Entry(identity, BearerTokenAuthenticator.sha256(token));
  }

  private static AuthConfig.Grant grant(List<String> identities, List<String> instances, List<String> rights) {
    AuthConfig.Grant grant = new AuthConfig.Grant();
    grant.identities = identities;
    grant.instances = instances;
    grant.rights = rights;
    return grant;
  }
}
