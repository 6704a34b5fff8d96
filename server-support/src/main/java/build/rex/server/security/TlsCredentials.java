package build.rex.server.security;

import build.rex.storage.DaemonThreads;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * gRPC credentials from PEM files that are read again whenever they change, so renewed
 * certificates and CAs take effect for new handshakes while open connections carry on.
 */
public final class TlsCredentials implements AutoCloseable {
  /** How often the files are checked for changes. */
  static final long RELOAD_SECONDS = 5;
  private final ScheduledExecutorService reloader =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("tls-reload"));
  private final List<Closeable> watches = new ArrayList<>();

  /**
   * The public port: the server certificate, and when a client CA is given, client certificates
   * asked for but optional, so token clients get a clear UNAUTHENTICATED rather than a failed handshake.
   */
  public ServerCredentials publicServer(PublicTlsConfig tls, String clientCaFile) throws IOException {
    if (!tls.enabled()) {
      return InsecureServerCredentials.create();
    }
    TlsServerCredentials.Builder builder = TlsServerCredentials.newBuilder()
        .keyManager(keyManager(tls.certificateFile, tls.privateKeyFile));
    if (!clientCaFile.isEmpty()) {
      builder.trustManager(trustManager(clientCaFile)).clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL);
    }
    return builder.build();
  }

  /** An internal port: only peers with a certificate from the internal CA get through the handshake. */
  public ServerCredentials internalServer(InternalTlsConfig tls) throws IOException {
    if (!tls.enabled()) {
      return InsecureServerCredentials.create();
    }
    return TlsServerCredentials.newBuilder()
        .keyManager(keyManager(tls.certificateFile, tls.privateKeyFile))
        .trustManager(trustManager(tls.caFile))
        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
        .build();
  }

  /**
   * Connections to other rex processes. Peers are addressed by pod IP, so the check is that the
   * peer's certificate comes from the internal CA, not that it names the address.
   */
  public ChannelCredentials internalChannel(InternalTlsConfig tls) throws IOException {
    if (!tls.enabled()) {
      return InsecureChannelCredentials.create();
    }
    return TlsChannelCredentials.newBuilder()
        .keyManager(keyManager(tls.certificateFile, tls.privateKeyFile))
        .trustManager(trustManager(tls.caFile))
        .build();
  }

  private synchronized AdvancedTlsX509KeyManager keyManager(String certificateFile, String privateKeyFile)
      throws IOException {
    AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
    try {
      watches.add(keyManager.updateIdentityCredentials(new File(certificateFile), new File(privateKeyFile),
          RELOAD_SECONDS, TimeUnit.SECONDS, reloader));
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use " + certificateFile + " with " + privateKeyFile + ": " + e.getMessage(), e);
    }
    return keyManager;
  }

  private synchronized AdvancedTlsX509TrustManager trustManager(String caFile) throws IOException {
    try {
      AdvancedTlsX509TrustManager trustManager = AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
          .build();
      watches.add(trustManager.updateTrustCredentials(new File(caFile), RELOAD_SECONDS, TimeUnit.SECONDS, reloader));
      return trustManager;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use " + caFile + " as a CA: " + e.getMessage(), e);
    }
  }

  @Override
  public synchronized void close() {
    for (Closeable watch : watches) {
      try {
        watch.close();
      } catch (IOException e) {
        // nothing left to stop
      }
    }
    reloader.shutdownNow();
  }
}
