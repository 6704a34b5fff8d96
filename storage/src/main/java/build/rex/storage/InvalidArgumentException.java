package build.rex.storage;

/** A request that is malformed: the message says what is wrong and becomes INVALID_ARGUMENT. */
public final class InvalidArgumentException extends Exception {
  public InvalidArgumentException(String message) {
    super(message);
  }
}
