package build.rex.server.security;

/** Who a call comes from, and how that was proven ({@code mtls}, {@code token}, {@code jwt} or {@code none}). */
public record Identity(String name, String via) {
  public static final Identity ANONYMOUS = new Identity("anonymous", "none");

  public boolean isAnonymous() {
    return this == ANONYMOUS;
  }

  @Override
  public String toString() {
    return name + " (" + via + ")";
  }
}
