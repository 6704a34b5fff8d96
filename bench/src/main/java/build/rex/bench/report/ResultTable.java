package build.rex.bench.report;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The one table the benchmark prints: per figure, rex's samples, the baseline's samples measured
 * in the same run, their ratio (of medians) and the target that ratio is held to.
 */
public final class ResultTable {
  /** One line: {@code ratio} is rex's median over the baseline's, null when there is no baseline. */
  public record Row(String figure, String unit, Samples rex, String baselineName, Samples baseline, String target) {
    Double ratio() {
      return baseline == null || baseline.isEmpty() || rex.isEmpty() ? null : rex.median() / baseline.median();
    }
  }

  private final List<Row> rows = new ArrayList<>();

  public void add(String figure, String unit, Samples rex, String baselineName, Samples baseline, String target) {
    rows.add(new Row(figure, unit, rex, baselineName, baseline, target));
  }

  public List<Row> rows() {
    return List.copyOf(rows);
  }

  /** A Markdown table, so docs/benchmarks.md can hold exactly what was printed. */
  public void print(PrintStream out) {
    out.println("| figure | unit | rex: median (min–max) | baseline | baseline: median (min–max) | ratio | target |");
    out.println("|---|---|---|---|---|---|---|");
    for (Row row : rows) {
      Double ratio = row.ratio();
      out.println("| " + row.figure() + " | " + row.unit() + " | " + row.rex().format() + " | "
          + (row.baselineName() == null ? "-" : row.baselineName()) + " | "
          + (row.baseline() == null ? "-" : row.baseline().format()) + " | "
          + (ratio == null ? "-" : String.format("%.2f", ratio)) + " | " + (row.target() == null ? "" : row.target())
          + " |");
    }
  }
}
