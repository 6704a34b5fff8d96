package build.rex.worker.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import build.rex.storage.BlobNotFoundException;
import build.rex.storage.RemoteStorageException;
import build.bazel.remote.execution.v2.Digest;
import io.grpc.Status;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Which faults are the cluster's (retried, then reported UNAVAILABLE) and which are not. */
class TransientFaultsTest {
  @Test
  void aPeerThatIsGoneOrLateIsTransientAnythingElseIsNot() {
    assertTrue(TransientFaults.isTransient(new RemoteStorageException(Status.UNAVAILABLE.withDescription("io exception"))));
    assertTrue(TransientFaults.isTransient(new RemoteStorageException(Status.DEADLINE_EXCEEDED)));
    assertTrue(TransientFaults.isTransient(new IOException("wrapped", Status.UNAVAILABLE.asRuntimeException())));
    assertTrue(TransientFaults.isTransient(new java.net.ConnectException("refused")));
    assertFalse(TransientFaults.isTransient(new RemoteStorageException(Status.INVALID_ARGUMENT)));
    assertFalse(TransientFaults.isTransient(new RemoteStorageException(Status.INTERNAL)));
    assertFalse(TransientFaults.isTransient(new BlobNotFoundException(Digest.getDefaultInstance())));
    assertFalse(TransientFaults.isTransient(new java.nio.file.NoSuchFileException("/x")));
  }

  @Test
  void aTransientFaultIsRetriedUntilTheTriesRunOut() throws Exception {
    AtomicInteger tries = new AtomicInteger();
    TransientFaults.retry("test", () -> {
      if (tries.incrementAndGet() < 2) {
        throw new RemoteStorageException(Status.UNAVAILABLE);
      }
    });
    assertEquals(2, tries.get(), "succeeded on the second try");

    tries.set(0);
    RemoteStorageException down = new RemoteStorageException(Status.UNAVAILABLE);
    assertSame(down, assertThrows(RemoteStorageException.class, () -> TransientFaults.retry("test", () -> {
      tries.incrementAndGet();
      throw down;
    })));
    assertEquals(TransientFaults.PAUSES_MILLIS.length + 1, tries.get());

    tries.set(0);
    assertThrows(BlobNotFoundException.class, () -> TransientFaults.retry("test", () -> {
      tries.incrementAndGet();
      throw new BlobNotFoundException(Digest.getDefaultInstance());
    }));
    assertEquals(1, tries.get(), "a missing blob is not retried");
  }
}
