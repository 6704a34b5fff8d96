package build.rex.operator;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/** The Helm chart, rendered with helm-java (Helm itself, as a library) and read as fabric8 models. */
final class Chart {
  static final Path DIR = Path.of("..", "helm", "rex-operator");

  private Chart() {}

  static List<HasMetadata> render(Map<String, Object> values) {
    return render(template -> {
      values.forEach(template::set);
      return template;
    });
  }

  static List<HasMetadata> render(UnaryOperator<TemplateCommand> options) {
    String yaml = options.apply(new Helm(DIR).template().withName("rex").withNamespace("rex-system").withKubeVersion("1.31.0")).call();
    List<HasMetadata> objects = new ArrayList<>();
    for (String document : yaml.split("(?m)^---\\s*$")) {
      if (document.strip().isEmpty() || document.lines().allMatch(line -> line.isBlank() || line.startsWith("#"))) {
        continue;
      }
      Object parsed = document.contains("kind: RemoteExecutionCluster")
          ? Serialization.unmarshal(document, build.rex.operator.api.RemoteExecutionCluster.class)
          : Serialization.unmarshal(document);
      if (parsed instanceof KubernetesList list) {
        objects.addAll(list.getItems());
      } else {
        objects.add((HasMetadata) parsed);
      }
    }
    return objects;
  }

  /** The rules of the chart's ClusterRole and Roles with default values (the Roles' only in the operator's namespace). */
  static List<PolicyRule> rules() {
    List<PolicyRule> rules = new ArrayList<>();
    for (HasMetadata object : render(Map.of())) {
      if (object instanceof io.fabric8.kubernetes.api.model.rbac.ClusterRole role) {
        rules.addAll(role.getRules());
      } else if (object instanceof io.fabric8.kubernetes.api.model.rbac.Role role) {
        rules.addAll(role.getRules());
      }
    }
    return rules;
  }

  /** What Kubernetes grants every authenticated user (ClusterRole system:basic-user). */
  private static final List<String> BASIC_USER = List.of("authorization.k8s.io/selfsubjectrulesreviews/create",
      "authorization.k8s.io/selfsubjectaccessreviews/create");

  /**
   * Fails unless every call ("METHOD path") is allowed by the rules: the RBAC is exactly as broad
   * as the operator needs, which the tests of every capability exercise.
   */
  static List<String> uncovered(java.util.Collection<String> calls) {
    List<PolicyRule> rules = rules();
    List<String> missing = new ArrayList<>();
    for (String call : calls) {
      String[] access = access(call);
      if (BASIC_USER.contains(access[0] + "/" + access[1] + "/" + access[2])) {
        continue;
      }
      boolean allowed = rules.stream().anyMatch(rule -> rule.getApiGroups().contains(access[0])
          && rule.getResources().contains(access[1]) && rule.getVerbs().contains(access[2]));
      if (!allowed) {
        missing.add(call + " needs " + access[2] + " on " + (access[0].isEmpty() ? "core" : access[0]) + "/" + access[1]);
      }
    }
    return missing;
  }

  /** {group, resource[/subresource], verb} of a recorded API call. */
  static String[] access(String call) {
    String method = call.substring(0, call.indexOf(' '));
    String path = call.substring(call.indexOf(' ') + 1);
    boolean watch = path.endsWith("?watch");
    path = path.replace("?watch", "");
    List<String> parts = new ArrayList<>(List.of(path.substring(1).split("/")));
    String group;
    if (parts.get(0).equals("api")) {
      group = "";
      parts = parts.subList(2, parts.size());
    } else {
      group = parts.get(1);
      parts = parts.subList(3, parts.size());
    }
    if (parts.get(0).equals("namespaces") && parts.size() > 2) {
      parts = parts.subList(2, parts.size());
    }
    String resource = parts.get(0) + (parts.size() > 2 ? "/" + parts.get(2) : "");
    boolean named = parts.size() > 1;
    String verb = switch (method) {
      case "GET" -> watch ? "watch" : named ? "get" : "list";
      case "POST" -> "create";
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> named ? "delete" : "deletecollection";
      default -> method.toLowerCase();
    };
    return new String[] {group, resource, verb};
  }
}
