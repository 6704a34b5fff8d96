package build.rex.operator;

import build.rex.operator.scaling.HttpSchedulerAdmin;
import build.rex.admin.AdminHttp;
import build.rex.config.ConfigLoader;
import build.rex.config.Logging;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code rex-operator [--config operator.yaml]}: runs the operator against the API server of the
 * current kubeconfig context, or the pod's service account inside a cluster.
 */
public final class OperatorMain {
  private OperatorMain() {}

  public static void main(String[] args) throws Exception {
    Path configFile = null;
    if (args.length == 2 && args[0].equals("--config")) {
      configFile = Path.of(args[1]);
    } else if (args.length != 0) {
      System.err.println("usage: rex-operator [--config operator.yaml]");
      System.exit(2);
    }
    OperatorSettings settings = ConfigLoader.load(configFile, OperatorSettings.class);
    Logging.init(settings.logLevel);
    Logger log = LoggerFactory.getLogger(OperatorMain.class);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    KubernetesClient client = new KubernetesClientBuilder().build();
    java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
    log.info("rex operator: API server {}, namespaces {}", client.getMasterUrl(),
        settings.namespaces.isEmpty() ? "all" : settings.namespaces);
    RexOperator operator = RexOperator.start(client, settings, registry, new HttpSchedulerAdmin(), cause -> {
      if (!stopping.get()) { // watches also stop, and the Lease goes, while the process shuts down
        log.error("the operator can no longer act; exiting so that it restarts", cause);
        System.exit(1);
      }
    });
    AdminHttp admin = new AdminHttp(settings.admin.host, settings.admin.port, registry, operator::healthy).start();
    log.info("rex operator running; metrics and health on port {}", admin.port());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stopping.set(true);
      operator.close();
      admin.close();
      client.close();
      stopped.countDown();
    }, "shutdown"));
    stopped.await();
  }
}
