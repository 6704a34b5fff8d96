package build.rex.pki;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A small certificate authority: makes a CA, or loads one from PEM, and issues leaf
 * certificates (ECDSA P-256) good for both TLS server and client use. {@code rex local} and
 * the tests make their certificates with it; so does the operator.
 */
public final class CertificateAuthority {
  private static final SecureRandom RANDOM = new SecureRandom();
  private final X509Certificate certificate;
  private final PrivateKey key;

  private CertificateAuthority(X509Certificate certificate, PrivateKey key) {
    this.certificate = certificate;
    this.key = key;
  }

  /** A certificate and its private key. */
  public record Issued(X509Certificate certificate, PrivateKey key) {
    public String certificatePem() {
      return pem(certificate);
    }

    public String privateKeyPem() {
      return privateKeyToPem(key);
    }

    /** Writes both as PEM; the key readable by its owner only. */
    public void write(Path certificateFile, Path privateKeyFile) throws IOException {
      Files.writeString(certificateFile, certificatePem());
      writePrivate(privateKeyFile, privateKeyPem());
    }
  }

  public static CertificateAuthority create(String commonName, Duration validity) {
    return create(commonName, Instant.now(), validity);
  }

  /** A CA valid from {@code now} (back-dated an hour) for {@code validity}. */
  public static CertificateAuthority create(String commonName, Instant now, Duration validity) {
    KeyPair keys = newKeyPair();
    try {
      X500Name name = new X500Name("CN=" + commonName);
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = builder(name, name, keys, now, now.plus(validity))
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(keys.getPublic()));
      return new CertificateAuthority(sign(builder, keys.getPrivate()), keys.getPrivate());
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a CA certificate", e);
    }
  }

  public static CertificateAuthority load(Path certificateFile, Path privateKeyFile) throws IOException {
    return new CertificateAuthority(readCertificate(certificateFile), readPrivateKey(privateKeyFile));
  }

  /**
   * A leaf certificate for {@code commonName}, valid for the given DNS names and IP addresses
   * (each entry of {@code subjectAltNames} is one or the other).
   */
  public Issued issue(String commonName, List<String> subjectAltNames, Duration validity) {
    Instant now = Instant.now();
    return issue(commonName, subjectAltNames, now, now.plus(validity));
  }

  /** A leaf certificate valid from {@code now} (back-dated an hour) until {@code notAfter}. */
  public Issued issue(String commonName, List<String> subjectAltNames, Instant now, Instant notAfter) {
    KeyPair keys = newKeyPair();
    try {
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = builder(
          X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
          new X500Name("CN=" + commonName), keys, now, notAfter)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
          .addExtension(Extension.extendedKeyUsage, false,
              new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
          .addExtension(Extension.authorityKeyIdentifier, false, extensions.createAuthorityKeyIdentifier(certificate))
          .addExtension(Extension.subjectKeyIdentifier, false, extensions.createSubjectKeyIdentifier(keys.getPublic()));
      if (!subjectAltNames.isEmpty()) {
        List<GeneralName> names = new ArrayList<>();
        for (String name : subjectAltNames) {
          names.add(isIpAddress(name) ? new GeneralName(GeneralName.iPAddress, name) : new GeneralName(GeneralName.dNSName, name));
        }
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
      }
      return new Issued(sign(builder, key), keys.getPrivate());
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot issue a certificate for " + commonName, e);
    }
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public String certificatePem() {
    return pem(certificate);
  }

  public void write(Path certificateFile, Path privateKeyFile) throws IOException {
    Files.writeString(certificateFile, certificatePem());
    writePrivate(privateKeyFile, privateKeyPem());
  }

  public static X509Certificate readCertificate(Path file) throws IOException {
    return parseCertificate(Files.readString(file), file.toString());
  }

  /** A CA kept as PEM text, e.g. in a Kubernetes Secret. */
  public static CertificateAuthority fromPem(String certificatePem, String privateKeyPem) throws IOException {
    return new CertificateAuthority(parseCertificate(certificatePem, "the CA certificate"),
        parsePrivateKey(privateKeyPem, "the CA key"));
  }

  public String privateKeyPem() {
    return privateKeyToPem(key);
  }

  /** The first certificate in {@code pem}; {@code source} names it in errors. */
  public static X509Certificate parseCertificate(String pem, String source) throws IOException {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object object = parser.readObject();
      if (!(object instanceof X509CertificateHolder holder)) {
        throw new IOException(source + " holds no PEM certificate");
      }
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (GeneralSecurityException e) {
      throw new IOException(source + ": " + e.getMessage(), e);
    }
  }

  private static PrivateKey readPrivateKey(Path file) throws IOException {
    return parsePrivateKey(Files.readString(file), file.toString());
  }

  private static PrivateKey parsePrivateKey(String pem, String source) throws IOException {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object object = parser.readObject();
      if (object instanceof PrivateKeyInfo info) {
        return new JcaPEMKeyConverter().getPrivateKey(info);
      }
      if (object instanceof org.bouncycastle.openssl.PEMKeyPair pair) {
        return new JcaPEMKeyConverter().getKeyPair(pair).getPrivate();
      }
      throw new IOException(source + " holds no PEM private key");
    }
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys, Instant now,
      Instant notAfter) {
    // Back-dated an hour so a clock slightly behind still accepts a fresh certificate.
    return new JcaX509v3CertificateBuilder(issuer, new BigInteger(127, RANDOM), Date.from(now.minus(Duration.ofHours(1))),
        Date.from(notAfter), subject, keys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean isIpAddress(String name) {
    return name.matches("[0-9.]+") || name.contains(":");
  }

  /** A certificate as PEM text. */
  public static String toPem(X509Certificate certificate) {
    return pem(certificate);
  }

  static String pem(Object object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toString();
  }

  /** PKCS#8 ("BEGIN PRIVATE KEY"), the form gRPC and Bazel both read. */
  static String privateKeyToPem(PrivateKey key) {
    try {
      return pem(new JcaPKCS8Generator(key, null).generate());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes a secret readable by its owner only, replacing the file in one step. */
  public static void writePrivate(Path file, String pem) throws IOException {
    Path staging = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(staging);
    Files.createFile(staging, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(staging, pem);
    Files.move(staging, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }
}
