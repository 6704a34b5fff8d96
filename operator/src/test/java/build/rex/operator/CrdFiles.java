package build.rex.operator;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The checked-in CRD, read as a fabric8 model. */
final class CrdFiles {
  static final Path GENERATED = Path.of("target", "classes", "META-INF", "fabric8", "remoteexecutionclusters.rex.build-v1.yml");

  private CrdFiles() {}

  static CustomResourceDefinition checkedIn() throws Exception {
    return Serialization.unmarshal(Files.readString(MockKubernetes.CRD_FILE), CustomResourceDefinition.class);
  }

  /** Printer column name to its JSON path. */
  static Map<String, String> printerColumns() throws Exception {
    Map<String, String> columns = new LinkedHashMap<>();
    for (CustomResourceColumnDefinition column : checkedIn().getSpec().getVersions().get(0).getAdditionalPrinterColumns()) {
      columns.put(column.getName(), column.getJsonPath());
    }
    return columns;
  }
}
