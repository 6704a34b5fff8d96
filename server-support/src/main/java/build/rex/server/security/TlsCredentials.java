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
import java.io.File;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * gRPC credentials from PEM files that are read again whenever they change, so renewed
 * certificates and CAs take effect for new handshakes while open connections carry on.
 */
public final class TlsCredentials implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TlsCredentials.class);
  /** How often the files are checked for changes. */
  static final long RELOAD_SECONDS = 5;
  private final ScheduledExecutorService reloader =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("tls-reload"));
  private final List<Watch> watches = new ArrayList<>();

  /** Files and what to do when any of them changes. */
  private interface Reload {
    void run() throws IOException, GeneralSecurityException;
  }

  private static final class Watch {
    final List<File> files;
    final Reload reload;
    String version;

    Watch(List<File> files, Reload reload) {
      this.files = files;
      this.reload = reload;
      this.version = versionOf(files);
    }
  }

  public TlsCredentials() {
    // grpc's own file watching polls at most once a minute; renewals should not wait that long.
    reloader.scheduleWithFixedDelay(this::reloadChanged, RELOAD_SECONDS, RELOAD_SECONDS, TimeUnit.SECONDS);
  }

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

  private AdvancedTlsX509KeyManager keyManager(String certificateFile, String privateKeyFile) throws IOException {
    AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
    File certificate = new File(certificateFile);
    File key = new File(privateKeyFile);
    watch(List.of(certificate, key), () -> keyManager.updateIdentityCredentials(certificate, key),
        "cannot use " + certificateFile + " with " + privateKeyFile);
    return keyManager;
  }

  private AdvancedTlsX509TrustManager trustManager(String caFile) throws IOException {
    try {
      AdvancedTlsX509TrustManager trustManager = AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
          .build();
      File ca = new File(caFile);
      watch(List.of(ca), () -> trustManager.updateTrustCredentials(ca), "cannot use " + caFile + " as a CA");
      return trustManager;
    } catch (java.security.cert.CertificateException e) {
      throw new IOException("cannot use " + caFile + " as a CA: " + e.getMessage(), e);
    }
  }

  /** Loads now (failing loudly: a server must not start without its certificate), then on every change. */
  private synchronized void watch(List<File> files, Reload reload, String problem) throws IOException {
    try {
      reload.run();
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IOException(problem + ": " + e.getMessage(), e);
    }
    watches.add(new Watch(files, reload));
  }

  private synchronized void reloadChanged() {
    for (Watch watch : watches) {
      String version = versionOf(watch.files);
      if (version.equals(watch.version)) {
        continue;
      }
      try {
        watch.reload.run();
        watch.version = version;
        log.info("reloaded {}", watch.files);
      } catch (IOException | GeneralSecurityException | RuntimeException e) {
        // Half of a renewal (a new certificate before its key) fails here; the next look succeeds.
        log.warn("keeping the previous credentials; {} cannot be used yet: {}", watch.files, e.getMessage());
      }
    }
  }

  private static String versionOf(List<File> files) {
    StringBuilder version = new StringBuilder();
    for (File file : files) {
      version.append(file.lastModified()).append('/').append(file.length()).append(';');
    }
    return version.toString();
  }

  @Override
  public void close() {
    reloader.shutdownNow();
  }
}
