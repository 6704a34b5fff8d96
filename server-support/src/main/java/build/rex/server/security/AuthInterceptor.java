package build.rex.server.security;

import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.rex.storage.BlobResourceName;
import build.rex.storage.InvalidArgumentException;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The public port's gatekeeper. It authenticates each call from its headers and TLS session,
 * then holds the call until its first request arrives: only then is the instance known, so the
 * service sees nothing (not even the start of a stream) from a caller without the right for it.
 * Refusals are UNAUTHENTICATED, PERMISSION_DENIED or RESOURCE_EXHAUSTED, each in the audit log.
 */
public final class AuthInterceptor implements ServerInterceptor {
  /** The caller's identity, in the context of every call that got through. */
  public static final Context.Key<Identity> IDENTITY = Context.key("rex-identity");
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final String EXECUTE = ExecutionGrpc.getExecuteMethod().getFullMethodName();
  private static final String WAIT_EXECUTION = ExecutionGrpc.getWaitExecutionMethod().getFullMethodName();
  private static final String WRITE = ByteStreamGrpc.getWriteMethod().getFullMethodName();

  private final AuthenticationChain authentication;
  private final AccessPolicy policy;
  private final ClientLimits limits;
  private final AuditLog audit;

  public AuthInterceptor(AuthenticationChain authentication, AccessPolicy policy, ClientLimits limits, AuditLog audit) {
    this.authentication = authentication;
    this.policy = policy;
    this.limits = limits;
    this.audit = audit;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    Identity identity;
    try {
      identity = authentication.authenticate(credentials(call, headers));
    } catch (AuthenticationException e) {
      return refuse(call, Status.UNAUTHENTICATED, null, e.getMessage());
    }
    MethodRights.Rule rule = MethodRights.of(method);
    if (rule == null) {
      return refuse(call, Status.PERMISSION_DENIED, identity, "this method is not open to clients");
    }
    if (!rule.perInstance() && !rule.anyOf().stream().anyMatch(right -> policy.allowsSomewhere(identity, right))) {
      return deny(call, identity, rule, "any instance");
    }
    call.request(1);
    return new GatedListener<>(call, headers, next, identity, rule);
  }

  /** Holds events until the first request says which instance the call is for. */
  private final class GatedListener<Q, R> extends ServerCall.Listener<Q> {
    private final ServerCall<Q, R> call;
    private final Metadata headers;
    private final ServerCallHandler<Q, R> next;
    private final Identity identity;
    private final MethodRights.Rule rule;
    private final List<ClientLimits.Lease> leases = new ArrayList<>();
    private ServerCall.Listener<Q> delegate;
    private boolean refused;

    GatedListener(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next, Identity identity,
        MethodRights.Rule rule) {
      this.call = call;
      this.headers = headers;
      this.next = next;
      this.identity = identity;
      this.rule = rule;
    }

    @Override
    public void onMessage(Q request) {
      if (refused) {
        return;
      }
      if (delegate == null && !admit(request)) {
        refused = true;
        release();
        return;
      }
      delegate.onMessage(request);
    }

    /** Checks rights and limits for the first request, then starts the real call. */
    private boolean admit(Q request) {
      String instance = MethodRights.instanceOf(request);
      if (rule.perInstance() && !policy.allows(identity, instance, rule.anyOf())) {
        deny(call, identity, rule, "instance '" + instance + "'");
        return false;
      }
      String method = call.getMethodDescriptor().getFullMethodName();
      ClientLimits.Lease lease = null;
      String exhausted = null;
      if (method.equals(EXECUTE) || method.equals(WAIT_EXECUTION)) {
        lease = limits.tryExecution(identity);
        exhausted = "too many executions in flight for this client";
      } else if (request instanceof WriteRequest write && method.equals(WRITE)) {
        lease = limits.tryUpload(identity, declaredSize(write.getResourceName()));
        exhausted = "too many upload bytes in flight for this client";
      } else if (request instanceof BatchUpdateBlobsRequest batch) {
        lease = limits.tryUpload(identity, batch.getSerializedSize());
        exhausted = "too many upload bytes in flight for this client";
      }
      if (exhausted != null && lease == null) {
        refuse(call, Status.RESOURCE_EXHAUSTED, identity, exhausted);
        return false;
      }
      if (lease != null) {
        leases.add(lease);
      }
      start();
      return true;
    }

    /** Starts the service's side of the call, with the caller's identity in its context. */
    private void start() {
      delegate = Contexts.interceptCall(Context.current().withValue(IDENTITY, identity), call, headers, next);
    }

    @Override
    public void onHalfClose() {
      if (refused) {
        return;
      }
      if (delegate == null) {
        // No request at all: let the service say what it says to an empty call.
        start();
      }
      delegate.onHalfClose();
    }

    @Override
    public void onCancel() {
      release();
      if (delegate != null) {
        delegate.onCancel();
      }
    }

    @Override
    public void onComplete() {
      release();
      if (delegate != null) {
        delegate.onComplete();
      }
    }

    @Override
    public void onReady() {
      if (delegate != null) {
        delegate.onReady();
      }
    }

    private void release() {
      leases.forEach(ClientLimits.Lease::release);
      leases.clear();
    }
  }

  private <Q, R> ServerCall.Listener<Q> deny(ServerCall<Q, R> call, Identity identity, MethodRights.Rule rule,
      String where) {
    String needs = String.join(" or ", rule.anyOf().stream().map(Right::configName).sorted().toList());
    String reason = identity.isAnonymous()
        ? "this call needs credentials: anonymous callers may not " + needs + " on " + where
        : identity.name() + " may not " + needs + " on " + where;
    return refuse(call, identity.isAnonymous() ? Status.UNAUTHENTICATED : Status.PERMISSION_DENIED, identity, reason);
  }

  private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status, Identity identity, String reason) {
    audit.refused(status.getCode(), identity, call.getMethodDescriptor().getFullMethodName(),
        call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), reason);
    call.close(status.withDescription(reason), new Metadata());
    return new ServerCall.Listener<>() {};
  }

  private static Credentials credentials(ServerCall<?, ?> call, Metadata headers) throws AuthenticationException {
    String token = null;
    String authorization = headers.get(AUTHORIZATION);
    if (authorization != null) {
      if (!authorization.toLowerCase(Locale.ROOT).startsWith("bearer ")) {
        throw new AuthenticationException("the authorization header must be 'Bearer <token>'");
      }
      token = authorization.substring("bearer ".length()).trim();
    }
    return new Credentials(token, peerCertificates(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION)));
  }

  private static List<X509Certificate> peerCertificates(SSLSession session) {
    if (session == null) {
      return List.of();
    }
    try {
      List<X509Certificate> chain = new ArrayList<>();
      for (Certificate certificate : session.getPeerCertificates()) {
        chain.add((X509Certificate) certificate);
      }
      return chain;
    } catch (SSLPeerUnverifiedException e) {
      return List.of();
    }
  }

  private static long declaredSize(String resourceName) {
    try {
      return BlobResourceName.parseWrite(resourceName).digest().getSizeBytes();
    } catch (InvalidArgumentException e) {
      return 0; // the service refuses the name itself
    }
  }
}
