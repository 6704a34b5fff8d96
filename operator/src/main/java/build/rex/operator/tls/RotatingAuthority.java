package build.rex.operator.tls;

import build.rex.pki.CertificateAuthority;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One of a cluster's CAs through its rotation, which never leaves a certificate in use untrusted:
 * <ol>
 *   <li>STABLE: one CA signs and is trusted. Once it is within {@code renewBefore} of its end,
 *   a new CA is made and the rotation begins.
 *   <li>INTRODUCING: the new CA is trusted beside the old, which still signs: every pod learns
 *   the new CA before anything it signed is shown.
 *   <li>RETIRING: the new CA signs (leaf certificates are issued again), the old one is still
 *   trusted, so pods that have not re-read their files yet are still accepted.
 *   <li>STABLE again, with the new CA alone.
 * </ol>
 * Each rotating phase lasts at least {@code overlap}: time for the kubelet to update the mounted
 * Secrets and the servers to re-read them. Kept in the CA Secret under keys starting with {@code prefix}.
 */
public record RotatingAuthority(String prefix, Phase phase, CertificateAuthority signer, CertificateAuthority next,
    X509Certificate previous, Instant since) {

  public enum Phase { STABLE, INTRODUCING, RETIRING }

  /** How long a CA lives, how long before its end the rotation starts, how long each of its phases lasts. */
  public record Policy(Duration validity, Duration renewBefore, Duration overlap) {}

  /** The state after {@code now}: the one in {@code data} moved on by at most one step, or a new CA. */
  public static RotatingAuthority advance(Map<String, String> data, String prefix, String subject, Policy policy,
      Instant now) {
    RotatingAuthority current = read(data, prefix);
    if (current == null) {
      return new RotatingAuthority(prefix, Phase.STABLE, create(subject, policy, now), null, null, null);
    }
    boolean overlapDone = current.since != null && !now.isBefore(current.since.plus(policy.overlap()));
    return switch (current.phase) {
      case STABLE -> now.isBefore(current.notAfter().minus(policy.renewBefore())) ? current
          : new RotatingAuthority(prefix, Phase.INTRODUCING, current.signer, create(subject, policy, now), null, now);
      case INTRODUCING -> overlapDone
          ? new RotatingAuthority(prefix, Phase.RETIRING, current.next, null, current.signer.certificate(), now) : current;
      case RETIRING -> overlapDone ? new RotatingAuthority(prefix, Phase.STABLE, current.signer, null, null, null) : current;
    };
  }

  /** When {@link #advance} would next change something. */
  public Instant nextStepAt(Policy policy) {
    return phase == Phase.STABLE ? notAfter().minus(policy.renewBefore()) : since.plus(policy.overlap());
  }

  /** The end of the signing CA's life. */
  public Instant notAfter() {
    return signer.certificate().getNotAfter().toInstant();
  }

  /** Every CA a peer must accept now: the signing one first. */
  public List<X509Certificate> trusted() {
    List<X509Certificate> trusted = new ArrayList<>();
    trusted.add(signer.certificate());
    if (next != null) {
      trusted.add(next.certificate());
    }
    if (previous != null) {
      trusted.add(previous);
    }
    return trusted;
  }

  /** {@link #trusted} as one PEM bundle: the ca.crt every leaf Secret carries. */
  public String trustPem() {
    StringBuilder pem = new StringBuilder(signer.certificatePem());
    if (next != null) {
      pem.append(next.certificatePem());
    }
    if (previous != null) {
      pem.append(CertificateAuthority.toPem(previous));
    }
    return pem.toString();
  }

  /** The Secret's entries for this CA. */
  public Map<String, String> secretData() {
    Map<String, String> data = new LinkedHashMap<>();
    data.put(prefix + "ca.crt", encode(signer.certificatePem()));
    data.put(prefix + "ca.key", encode(signer.privateKeyPem()));
    if (next != null) {
      data.put(prefix + "next-ca.crt", encode(next.certificatePem()));
      data.put(prefix + "next-ca.key", encode(next.privateKeyPem()));
    }
    if (previous != null) {
      data.put(prefix + "previous-ca.crt", encode(CertificateAuthority.toPem(previous)));
    }
    if (since != null) {
      data.put(prefix + "rotation-since", encode(since.toString()));
    }
    return data;
  }

  /** The state a Secret holds, or null when it holds none that can be read (then a new CA is made). */
  static RotatingAuthority read(Map<String, String> data, String prefix) {
    if (data == null || data.get(prefix + "ca.crt") == null || data.get(prefix + "ca.key") == null) {
      return null;
    }
    try {
      CertificateAuthority signer = CertificateAuthority.fromPem(decode(data.get(prefix + "ca.crt")),
          decode(data.get(prefix + "ca.key")));
      String nextCrt = data.get(prefix + "next-ca.crt");
      CertificateAuthority next = nextCrt == null ? null
          : CertificateAuthority.fromPem(decode(nextCrt), decode(data.get(prefix + "next-ca.key")));
      String previousCrt = data.get(prefix + "previous-ca.crt");
      X509Certificate previous = previousCrt == null ? null
          : CertificateAuthority.parseCertificate(decode(previousCrt), prefix + "previous-ca.crt");
      String since = data.get(prefix + "rotation-since");
      Phase phase = next != null ? Phase.INTRODUCING : previous != null ? Phase.RETIRING : Phase.STABLE;
      if (phase != Phase.STABLE && since == null) {
        return null;
      }
      return new RotatingAuthority(prefix, phase, signer, next, previous,
          phase == Phase.STABLE ? null : Instant.parse(decode(since)));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static CertificateAuthority create(String subject, Policy policy, Instant now) {
    // A subject of its own: during a rotation two CAs are trusted side by side.
    return CertificateAuthority.create(subject + " " + now.truncatedTo(ChronoUnit.SECONDS), now, policy.validity());
  }

  static String encode(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }
}
