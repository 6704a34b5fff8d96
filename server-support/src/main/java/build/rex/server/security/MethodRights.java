package build.rex.server.security;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import com.google.bytestream.ByteStreamGrpc;
import com.google.longrunning.OperationsGrpc;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The right each public REAPI method needs, and the instance its request names. A method not
 * listed here is refused: a service added to the public port is closed until someone decides
 * who may use it.
 */
public final class MethodRights {
  /**
   * One of {@code anyOf} on the instance the request names, or, for calls that name an
   * operation rather than an instance, on some instance.
   */
  public record Rule(Set<Right> anyOf, boolean perInstance) {}

  /** Reserved words of the REAPI that end the instance part of a resource or operation name. */
  private static final Set<String> RESOURCE_KEYWORDS = Set.of("blobs", "uploads", "compressed-blobs", "operations");
  private static final Map<String, Rule> RULES = new HashMap<>();

  static {
    Set<Right> any = EnumSet.allOf(Right.class);
    Set<Right> read = EnumSet.of(Right.READ);
    Set<Right> write = EnumSet.of(Right.WRITE);
    Set<Right> execute = EnumSet.of(Right.EXECUTE);
    onInstance(CapabilitiesGrpc.getGetCapabilitiesMethod(), any);
    // Uploaders ask what is missing before they write; it reveals no content.
    onInstance(ContentAddressableStorageGrpc.getFindMissingBlobsMethod(), EnumSet.of(Right.READ, Right.WRITE));
    onInstance(ContentAddressableStorageGrpc.getBatchReadBlobsMethod(), read);
    onInstance(ContentAddressableStorageGrpc.getGetTreeMethod(), read);
    onInstance(ContentAddressableStorageGrpc.getBatchUpdateBlobsMethod(), write);
    onInstance(ByteStreamGrpc.getReadMethod(), read);
    onInstance(ByteStreamGrpc.getWriteMethod(), write);
    onInstance(ByteStreamGrpc.getQueryWriteStatusMethod(), write);
    onInstance(ActionCacheGrpc.getGetActionResultMethod(), read);
    onInstance(ActionCacheGrpc.getUpdateActionResultMethod(), write);
    onInstance(ExecutionGrpc.getExecuteMethod(), execute);
    // Operation names begin with their instance ([<instance>/]operations/...): following one, or
    // carrying it on after its scheduler died, takes the right to execute there.
    onInstance(ExecutionGrpc.getWaitExecutionMethod(), execute);
    onInstance(OperationsGrpc.getGetOperationMethod(), execute);
    somewhere(OperationsGrpc.getListOperationsMethod(), execute);
    onInstance(OperationsGrpc.getCancelOperationMethod(), execute);
    onInstance(OperationsGrpc.getDeleteOperationMethod(), execute);
    onInstance(OperationsGrpc.getWaitOperationMethod(), execute);
  }

  private MethodRights() {}

  /** The rule for a full method name; null for methods clients may not call. */
  public static Rule of(String fullMethodName) {
    return RULES.get(fullMethodName);
  }

  /**
   * The instance a request names: its instance_name, or the instance part of its resource_name
   * or (for operations) its name.
   */
  public static String instanceOf(Object request) {
    if (!(request instanceof Message message)) {
      return "";
    }
    FieldDescriptor field = message.getDescriptorForType().findFieldByName("instance_name");
    if (field != null) {
      return (String) message.getField(field);
    }
    field = message.getDescriptorForType().findFieldByName("resource_name");
    if (field == null) {
      field = message.getDescriptorForType().findFieldByName("name");
    }
    return field == null ? "" : instanceOfResource((String) message.getField(field));
  }

  /** Everything before the first blobs, uploads, compressed-blobs or operations segment. */
  static String instanceOfResource(String resourceName) {
    StringBuilder instance = new StringBuilder();
    for (String segment : resourceName.split("/", -1)) {
      if (RESOURCE_KEYWORDS.contains(segment)) {
        break;
      }
      instance.append(instance.isEmpty() ? "" : "/").append(segment);
    }
    return instance.toString();
  }

  private static void onInstance(MethodDescriptor<?, ?> method, Set<Right> anyOf) {
    RULES.put(method.getFullMethodName(), new Rule(anyOf, true));
  }

  private static void somewhere(MethodDescriptor<?, ?> method, Set<Right> anyOf) {
    RULES.put(method.getFullMethodName(), new Rule(anyOf, false));
  }
}
