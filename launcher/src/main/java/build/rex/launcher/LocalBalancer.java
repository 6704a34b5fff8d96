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
 * TCP proxy on the client port that sends each new connection to the next scheduler that
 * accepts one. When a scheduler dies its connections break and the client's reconnect lands
 * on a live one, as it would behind a real load balancer.
 */
final class LocalBalancer implements AutoCloseable {
  private static final int CONNECT_TIMEOUT_MILLIS = 1000;
  private final ServerSocket listener;
  private final List<InetSocketAddress> backends;
  private final AtomicInteger next = new AtomicInteger();
  private final Thread acceptor;

  LocalBalancer(int port, List<InetSocketAddress> backends) throws IOException {
    this.listener = new ServerSocket();
    listener.setReuseAddress(true);
    listener.bind(new InetSocketAddress("127.0.0.1", port), 128);
    this.backends = List.copyOf(backends);
    this.acceptor = daemon("balancer-accept", this::acceptLoop);
    acceptor.start();
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
    for (int i = 0; i < backends.size(); i++) {
      Socket backend = new Socket();
      try {
        backend.connect(backends.get((start + i) % backends.size()), CONNECT_TIMEOUT_MILLIS);
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
