package build.rex.server;

/** Numbers with optional units as platform properties write them: 4, 1.5, 512Mi, 2G. */
public final class Quantities {
  private static final String[][] UNITS = {{"Ki", "1024"}, {"Mi", "1048576"}, {"Gi", "1073741824"},
      {"Ti", "1099511627776"}, {"K", "1e3"}, {"M", "1e6"}, {"G", "1e9"}, {"T", "1e12"}};

  private Quantities() {}

  /** The value, or 0 for anything that is not a quantity (so it never satisfies a request). */
  public static double parse(String value) {
    String v = value.trim();
    double unit = 1;
    for (String[] u : UNITS) {
      if (v.endsWith(u[0])) {
        unit = Double.parseDouble(u[1]);
        v = v.substring(0, v.length() - u[0].length());
        break;
      }
    }
    try {
      return Double.parseDouble(v) * unit;
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
