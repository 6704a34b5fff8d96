package build.rex.storage.replication;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;

/** Runs one call per member at once and collects each member's answer or failure. */
final class FanOut {
  private final Executor executor;

  FanOut(Executor executor) {
    this.executor = executor;
  }

  /** A call on one member. */
  interface Call<K, R> {
    R apply(K member) throws IOException;
  }

  /** One member's outcome: a value or a failure. */
  record Outcome<R>(R value, IOException failure) {
    boolean ok() {
      return failure == null;
    }
  }

  /** Calls every key; a single key runs on the caller's thread. */
  <K, R> Map<K, Outcome<R>> all(Iterable<K> members, Call<K, R> call) throws InterruptedIOException {
    Map<K, CompletableFuture<R>> pending = new LinkedHashMap<>();
    for (K member : members) {
      pending.put(member, null);
    }
    Map<K, Outcome<R>> outcomes = new LinkedHashMap<>();
    if (pending.size() == 1) {
      K only = pending.keySet().iterator().next();
      outcomes.put(only, run(call, only));
      return outcomes;
    }
    pending.replaceAll((member, none) -> CompletableFuture.supplyAsync(() -> {
      try {
        return call.apply(member);
      } catch (IOException e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    }, executor));
    for (Map.Entry<K, CompletableFuture<R>> entry : pending.entrySet()) {
      try {
        outcomes.put(entry.getKey(), new Outcome<>(entry.getValue().get(), null));
      } catch (ExecutionException e) {
        outcomes.put(entry.getKey(), new Outcome<>(null, asIo(e.getCause())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for storage members");
      }
    }
    return outcomes;
  }

  /** A call that returns nothing. */
  interface Action<K> {
    void apply(K member) throws IOException;
  }

  /** Calls every member at once; throws the first failure once all have answered. */
  <K> void allOrFail(Iterable<K> members, Action<K> action) throws IOException {
    for (Outcome<Object> outcome : this.<K, Object>all(members, member -> {
      action.apply(member);
      return null;
    }).values()) {
      if (!outcome.ok()) {
        throw outcome.failure();
      }
    }
  }

  private static <K, R> Outcome<R> run(Call<K, R> call, K member) {
    try {
      return new Outcome<>(call.apply(member), null);
    } catch (IOException e) {
      return new Outcome<>(null, e);
    } catch (RuntimeException e) {
      return new Outcome<>(null, asIo(e));
    }
  }

  private static IOException asIo(Throwable t) {
    Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    if (cause instanceof io.grpc.StatusRuntimeException e) {
      return new build.rex.storage.RemoteStorageException(e.getStatus());
    }
    return cause instanceof IOException io ? io : new IOException(cause.toString(), cause);
  }
}
