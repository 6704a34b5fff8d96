package build.rex.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the operator last saw and did; {@code kubectl get rec} shows the summary fields. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RemoteExecutionClusterStatus {
  /** The spec generation this status describes. */
  public Long observedGeneration;
  /** Ready, Progressing and Degraded, each with a reason and a message. */
  public List<Condition> conditions = new ArrayList<>();
  public Integer readySchedulers;
  public Integer desiredSchedulers;
  public Integer readyWorkers;
  public Integer desiredWorkers;
  /** "ready/desired", for the printer column. */
  public String schedulers;
  /** "ready/desired", for the printer column. */
  public String workers;
  /** Where clients connect, e.g. grpcs://203.0.113.7:443; empty until the Service has an address. */
  public String endpoint;
  /** Workers asked to drain before a scale-down, by pod name. */
  public List<String> drainingWorkers;
  /** What a scale-down is waiting for, in words; absent when nothing waits. */
  public String scaling;
  /** With autoscaling: "actual -> desired (queue asks N)"; the WorkersScaled condition says why. */
  public String autoscaling;
  /** The workers' sandbox mode and the layers it gives every action. */
  public String sandbox;
  /** Where the CAs' rotation stands: Stable, or which CA is being introduced or retired. */
  public String certificates;
}
