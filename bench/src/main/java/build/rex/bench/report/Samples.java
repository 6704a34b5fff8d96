package build.rex.bench.report;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Repeated measurements of one figure: reported as the median, with the minimum and maximum. */
public final class Samples {
  private final List<Double> values = new ArrayList<>();

  public Samples add(double value) {
    values.add(value);
    return this;
  }

  public boolean isEmpty() {
    return values.isEmpty();
  }

  public int count() {
    return values.size();
  }

  public double median() {
    List<Double> sorted = sorted();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  public double min() {
    return sorted().get(0);
  }

  public double max() {
    return sorted().get(values.size() - 1);
  }

  private List<Double> sorted() {
    if (values.isEmpty()) {
      throw new IllegalStateException("no samples");
    }
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted;
  }

  /** "12.3 (11.9–13.0)", with as many decimals as the size of the figure calls for. */
  public String format() {
    if (values.isEmpty()) {
      return "-";
    }
    return number(median()) + " (" + number(min()) + "–" + number(max()) + ")";
  }

  static String number(double value) {
    double magnitude = Math.abs(value);
    String pattern = magnitude >= 100 ? "%,.0f" : magnitude >= 10 ? "%.1f" : magnitude >= 1 ? "%.2f" : "%.3f";
    return String.format(pattern, value);
  }
}
