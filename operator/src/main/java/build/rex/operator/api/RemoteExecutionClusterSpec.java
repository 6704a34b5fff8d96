package build.rex.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The cluster a user asks for; every field has a default, so an empty spec is a working cluster. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.workers.replicas >= self.cas.replicationFactor",
    message = "workers.replicas must be at least cas.replicationFactor: every blob is kept on that many workers")
public class RemoteExecutionClusterSpec {
  // Object fields default to {} so the API server fills in their own defaults (and the rule above can read them).
  /** Kubernetes quantities as the API server writes them: 500m, 2, 1.5, 4Gi, 100M. */
  public static final String RIGHT = "^(read|write|execute)$";
  // Enumerations are patterned strings, not Java enums: a value the schema would refuse (on an API
  // server without it) still reads, and the operator reports it instead of failing to parse.
  /** Generated: the operator's own CA; Secret: a Secret you keep; CertManager: a cert-manager Certificate. */
  public static final String TLS_GENERATED = "Generated";
  public static final String TLS_SECRET = "Secret";
  public static final String TLS_CERT_MANAGER = "CertManager";
  /** A duration: a whole number of seconds, minutes, hours or days (30s, 10m, 12h, 365d). */
  public static final String DURATION = "^[0-9]+(s|m|h|d)$";
  public static final String QUANTITY = "^([0-9]+(\\.[0-9]+)?|\\.[0-9]+)(m|k|Ki|Mi|Gi|Ti|Pi|Ei|M|G|T|P|E)?$";

  @Default("{}")
  public Schedulers schedulers = new Schedulers();
  @Default("{}")
  public Workers workers = new Workers();
  @Default("{}")
  public Cas cas = new Cas();
  @Default("{}")
  public Tls tls = new Tls();
  @Default("{}")
  public Auth auth = new Auth();
  @Default("{}")
  public ClientService service = new ClientService();
  @Default("{}")
  public Backup backup = new Backup();
  @Default("{}")
  public Network network = new Network();
  @Default("{}")
  public Certificates certificates = new Certificates();

  /** The front door: serves clients, queues actions, shares the Action Cache. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Schedulers {
    @Min(1) @Max(50) @Default("2")
    public int replicas = 2;
    /** Empty: the operator's default scheduler image. */
    public String image = "";
    @Pattern(QUANTITY) @Default("1")
    public String cpu = "1";
    @Pattern(QUANTITY) @Default("2Gi")
    public String memory = "2Gi";
  }

  /** Run actions and hold the CAS on their volumes. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Workers {
    @Min(1) @Max(1000) @Default("3")
    public int replicas = 3;
    public String image = "";
    @Default("{}")
    public Storage storage = new Storage();
    /** The executor layout of every worker: pools of identical executors. */
    @Size(min = 1)
    public List<ExecutorPool> executors = new ArrayList<>(List.of(new ExecutorPool()));
    /** Memory for the worker process itself, on top of its executors'. */
    @Pattern(QUANTITY) @Default("1Gi")
    public String processMemory = "1Gi";
    /** Off: {@code replicas} workers. On: between minReplicas and maxReplicas, following the queue. */
    @Default("{}")
    public Autoscale autoscale = new Autoscale();
    /**
     * Full: every sandbox layer (PID, mount and network namespaces and a cgroup per action, which
     * take root with CAP_SYS_ADMIN in the pod, so Pod Security "privileged"). Baseline: only the
     * layers that need no extra privilege (an unprivileged user per action, rlimits, killed with
     * the worker), so the pods meet Pod Security "baseline".
     */
    @Pattern("^(Full|Baseline)$") @Default("Full")
    public String sandbox = SANDBOX_FULL;
  }

  public static final String SANDBOX_FULL = "Full";
  public static final String SANDBOX_BASELINE = "Baseline";

  /**
   * Workers follow the queue: enough that each executor has at most
   * {@code targetQueuedPerExecutor} actions waiting beside the one it runs. A rise must last
   * {@code scaleUpDelay} and a fall {@code scaleDownDelay} before the count follows it (the
   * highest count seen over that delay is kept, so a flapping queue does not flap workers), and a
   * scale-down drains the workers that go first, as a manual one does.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Autoscale {
    public boolean enabled = false;
    @Min(1) @Max(1000) @Default("2")
    public int minReplicas = 2;
    @Min(1) @Max(1000) @Default("10")
    public int maxReplicas = 10;
    @Min(0) @Default("1")
    public double targetQueuedPerExecutor = 1;
    @Pattern(DURATION) @Default("15s")
    public String scaleUpDelay = "15s";
    @Pattern(DURATION) @Default("10m")
    public String scaleDownDelay = "10m";
  }

  /** Each worker's persistent volume for its CAS. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Storage {
    @Pattern(QUANTITY) @Default("50Gi")
    public String size = "50Gi";
    /** Empty: the cluster's default StorageClass. */
    public String storageClassName = "";
    /** What happens to the volumes when the cluster is deleted: Delete (default) or Retain. */
    @Pattern("^(Delete|Retain)$") @Default("Delete")
    public String whenDeleted = "Delete";
  }

  /** {@code count} executors, each with the cpu and memory it may use and the platform properties it offers. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ExecutorPool {
    @Required @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    public String name = "default";
    @Min(1) @Max(512) @Default("2")
    public int count = 2;
    @Pattern(QUANTITY) @Default("1")
    public String cpu = "1";
    @Pattern(QUANTITY) @Default("2Gi")
    public String memory = "2Gi";
    /** Platform properties offered, e.g. {OSFamily: linux, container-image: ...}; cpu, memory and pool are added. */
    public Map<String, String> properties = new LinkedHashMap<>(Map.of("OSFamily", "linux"));
  }

  /** The content-addressable store across the workers. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Cas {
    /** Workers that hold each blob; losing fewer than this many at once loses nothing. */
    @Min(1) @Max(5) @Default("2")
    public int replicationFactor = 2;
  }

  /**
   * The operator's two CAs (the client-facing one and the internal one) and their rotation: a CA
   * is renewed {@code caRenewBefore} before it ends; the new one is trusted beside the old for
   * {@code rotationOverlap} before it signs, and the old one for as long again after.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Certificates {
    @Pattern(DURATION) @Default("365d")
    public String caValidity = "365d";
    @Pattern(DURATION) @Default("30d")
    public String caRenewBefore = "30d";
    /** Time for the kubelet to update every pod's mounted Secrets and the servers to re-read them. */
    @Pattern(DURATION) @Default("10m")
    public String rotationOverlap = "10m";
  }

  /** The client port's certificate. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Tls {
    @Pattern("^(Generated|Secret|CertManager)$") @Default("Generated")
    public String mode = TLS_GENERATED;
    /** For mode Secret: a kubernetes.io/tls Secret (tls.crt, tls.key). */
    public String secretName;
    /** For mode CertManager: the Issuer or ClusterIssuer that signs the certificate. */
    public IssuerRef issuerRef;
  }


  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class IssuerRef {
    @Required
    public String name;
    @Pattern("^(Issuer|ClusterIssuer)$") @Default("Issuer")
    public String kind = "Issuer";
  }

  /**
   * How clients prove who they are. With nothing set and TLS generated, clients use certificates
   * signed by the operator's CA (it issues one, in the Secret NAME-client-tls).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Auth {
    /** A Secret whose ca.crt signs client certificates; the identity is the certificate's CN. */
    public String clientCaSecretName;
    /** A Secret whose tokens.yaml lists {identity, sha256} of bearer tokens. */
    public String tokensSecretName;
    public Jwt jwt;
    /** Rights of callers without credentials: read, write, execute. */
    public List<@Pattern(RIGHT) String> anonymous;
    /** Who may do what on which instance names; default: every authenticated identity, everything. */
    public List<Grant> grants;
  }


  /** JSON Web Tokens checked against a JWKS (a Secret's jwks.json). */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Jwt {
    @Required
    public String jwksSecretName;
    @Required
    public String issuer;
    @Required
    public String audience;
    @Default("sub")
    public String identityClaim = "sub";
  }

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Grant {
    public List<String> identities = List.of("*");
    public List<String> instances = List.of("*");
    @Size(min = 1)
    public List<@Pattern(RIGHT) String> rights = List.of("read", "write", "execute");
  }

  /** The Service clients connect to. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ClientService {
    @Pattern("^(LoadBalancer|NodePort|ClusterIP)$") @Default("LoadBalancer")
    public String type = "LoadBalancer";
    @Min(1) @Max(65535) @Default("443")
    public int port = 443;
    public Map<String, String> annotations = new LinkedHashMap<>();
  }


  /** A copy of the CAS and Action Cache in S3-compatible object storage. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Backup {
    public boolean enabled = false;
    public String bucket;
    /** Empty: AWS itself. */
    @Pattern("^(https?://.+)?$")
    public String endpoint;
    @Default("us-east-1")
    public String region = "us-east-1";
    public String prefix;
    /** A Secret with access-key-id and secret-access-key; absent: the pods' default AWS credentials. */
    public String credentialsSecretName;
  }

  /**
   * NetworkPolicies: clients reach the client port from anywhere, the internal ports only the
   * cluster's own pods, and the admin ports (metrics, health, drain: no authentication) only
   * the operator's namespace and the namespaces named here.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Network {
    @Default("true")
    public boolean policies = true;
    /** Namespaces whose pods may reach the admin ports besides the operator's, e.g. Prometheus's. */
    public List<@Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$") String> adminFrom = new ArrayList<>();
  }
}
