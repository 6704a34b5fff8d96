package build.rex.operator.tls;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A cluster's two CAs: the public one signs the client port's certificate and client
 * certificates; the internal one signs the certificate schedulers and workers show each other.
 */
public record CertificateAuthorities(RotatingAuthority publicCa, RotatingAuthority internalCa,
    RotatingAuthority.Policy policy) {
  static final String INTERNAL = "internal-";

  /** Both CAs as the CA Secret holds them, each moved on by at most one step of its rotation. */
  public static CertificateAuthorities advance(Map<String, String> secretData, String cluster,
      RotatingAuthority.Policy policy, Instant now) {
    return new CertificateAuthorities(
        RotatingAuthority.advance(secretData, "", "rex " + cluster + " CA", policy, now),
        RotatingAuthority.advance(secretData, INTERNAL, "rex " + cluster + " internal CA", policy, now),
        policy);
  }

  public Map<String, String> secretData() {
    Map<String, String> data = new LinkedHashMap<>(publicCa.secretData());
    data.putAll(internalCa.secretData());
    return data;
  }

  /** When either CA's rotation next takes a step. */
  public Instant nextStepAt() {
    Instant publicStep = publicCa.nextStepAt(policy);
    Instant internalStep = internalCa.nextStepAt(policy);
    return publicStep.isBefore(internalStep) ? publicStep : internalStep;
  }

  /** The two phases, for the status: "Stable", or e.g. "public CA Introducing, internal CA Stable". */
  public String describe() {
    if (publicCa.phase() == internalCa.phase()) {
      return label(publicCa.phase());
    }
    return "public CA " + label(publicCa.phase()) + ", internal CA " + label(internalCa.phase());
  }

  private static String label(RotatingAuthority.Phase phase) {
    return switch (phase) {
      case STABLE -> "Stable";
      case INTRODUCING -> "Introducing a new CA";
      case RETIRING -> "Retiring the old CA";
    };
  }
}
