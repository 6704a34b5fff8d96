package build.rex.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The local stand-in for the Kubernetes LoadBalancer Service in front of several schedulers: a
 * TCP proxy on the client port that sends each new connection to the next ready scheduler (its
 * /readyz answers 200, probed as a kubelet would) that accepts one, and to any that accepts
 * one while none is ready. When a scheduler dies its connections break and the client's
 * reconnect lands on a live one, as it would behind a real load balancer.
 */
final class LocalBalancer implements AutoCloseable {
  private static final int CONNECT_TIMEOUT_MILLIS = 1000;
  private final ServerSocket listener;
  private static final long PROBE_MILLIS = 250;
  private final List<InetSocketAddress> backends;
  private final List<java.net.URI> readiness;
  private final java.util.concurrent.atomic.AtomicReferenceArray<Boolean> ready;
  private final java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
      .connectTimeout(java.time.Duration.ofMillis(500)).build();
  private final AtomicInteger next = new AtomicInteger();
  private final Thread acceptor;
  private final Thread prober;

  /** @param readiness each backend's readiness probe, in the order of {@code backends} */
  LocalBalancer(int port, List<InetSocketAddress> backends, List<java.net.URI> readiness) throws IOException {
    this.listener = new ServerSocket();
    listener.setReuseAddress(true);
    listener.bind(new InetSocketAddress("127.0.0.1", port), 128);
    this.backends = List.copyOf(backends);
    this.readiness = List.copyOf(readiness);
    this.ready = new java.util.concurrent.atomic.AtomicReferenceArray<>(backends.size());
    for (int i = 0; i < backends.size(); i++) {
      ready.set(i, false);
    }
    this.prober = daemon("balancer-probe", this::probeLoop);
    prober.start();
    this.acceptor = daemon("balancer-accept", this::acceptLoop);
    acceptor.start();
  }

  private void probeLoop() {
    while (!listener.isClosed()) {
      for (int i = 0; i < readiness.size(); i++) {
        boolean up;
        try {
          up = http.send(java.net.http.HttpRequest.newBuilder(readiness.get(i)).timeout(java.time.Duration.ofSeconds(1))
              .build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
          up = false;
        } catch (InterruptedException e) {
          return;
        }
        ready.set(i, up);
      }
      try {
        Thread.sleep(PROBE_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        daemon("balancer-connect", () -> connect(client)).start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void connect(Socket client) {
    int start = Math.floorMod(next.getAndIncrement(), backends.size());
    List<Integer> order = new java.util.ArrayList<>();
    for (int i = 0; i < backends.size(); i++) {
      order.add((start + i) % backends.size());
    }
    order.sort(java.util.Comparator.comparing(i -> !ready.get(i))); // ready ones first, in turn
    for (int index : order) {
      Socket backend = new Socket();
      try {
        backend.connect(backends.get(index), CONNECT_TIMEOUT_MILLIS);
        client.setTcpNoDelay(true);
        backend.setTcpNoDelay(true);
        daemon("balancer-up", () -> pump(client, backend)).start();
        daemon("balancer-down", () -> pump(backend, client)).start();
        return;
      } catch (IOException e) {
        closeQuietly(backend); // that scheduler is down: try the next
      }
    }
    closeQuietly(client);
  }

  /** Copies one direction until either side ends, then closes both. */
  private static void pump(Socket from, Socket to) {
    byte[] buffer = new byte[64 << 10];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        out.write(buffer, 0, n);
      }
    } catch (IOException e) {
      // one side went away
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // already closed
    }
  }

  private static Thread daemon(String name, Runnable body) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    return thread;
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}
