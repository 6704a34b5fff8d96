package build.rex.storage.service;

/**
 * Limits of the CAS services.
 *
 * @param maxBatchTotalSizeBytes largest sum of blob sizes in one batch call, as advertised in
 *     the capabilities; stays below gRPC's 4 MiB default message size
 * @param maxTreePageSize most directories in one GetTree page
 */
public record CasSettings(long maxBatchTotalSizeBytes, int maxTreePageSize) {
  public static final CasSettings DEFAULTS = new CasSettings(4_000_000, 10_000);
}
