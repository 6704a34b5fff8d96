package build.rex.scheduler.execution;

import build.bazel.remote.execution.v2.Platform;
import build.rex.server.Quantities;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Decides whether an executor can run an action: string properties must be equal, numeric
 * resources (cpu, memory, ...) must be at least what the action asks for, and configured keys
 * are ignored. A property may appear several times; each occurrence must be satisfied.
 */
public final class PlatformMatcher {
  private final Set<String> numericKeys;
  private final Set<String> ignoredKeys;

  public PlatformMatcher(Set<String> numericKeys, Set<String> ignoredKeys) {
    this.numericKeys = Set.copyOf(numericKeys);
    this.ignoredKeys = Set.copyOf(ignoredKeys);
  }

  public boolean satisfies(Platform required, Platform offered) {
    for (Platform.Property want : required.getPropertiesList()) {
      if (!ignoredKeys.contains(want.getName()) && !offers(offered, want)) {
        return false;
      }
    }
    return true;
  }

  private boolean offers(Platform offered, Platform.Property want) {
    for (Platform.Property have : offered.getPropertiesList()) {
      if (have.getName().equals(want.getName())) {
        if (numericKeys.contains(want.getName())
            ? Quantities.parse(have.getValue()) >= Quantities.parse(want.getValue())
            : have.getValue().equals(want.getValue())) {
          return true;
        }
      }
    }
    return false;
  }

  /** Names asked for that no executor offers and that are not ignorable, sorted; empty if none. */
  public Set<String> unknownNames(Platform required, Collection<Platform> offered) {
    Set<String> unknown = new TreeSet<>();
    for (Platform.Property want : required.getPropertiesList()) {
      if (!ignoredKeys.contains(want.getName())
          && offered.stream().flatMap(p -> p.getPropertiesList().stream()).noneMatch(p -> p.getName().equals(want.getName()))) {
        unknown.add(want.getName());
      }
    }
    return unknown;
  }

  /** The first property no single executor satisfies alongside the rest, or null if one can run it. */
  public String unsatisfiable(Platform required, Collection<Platform> offered) {
    if (offered.stream().anyMatch(p -> satisfies(required, p))) {
      return null;
    }
    for (Platform.Property want : required.getPropertiesList()) {
      if (offered.stream().noneMatch(p -> satisfies(Platform.newBuilder().addProperties(want).build(), p))) {
        return want.getName() + "=" + want.getValue();
      }
    }
    return "the combination " + List.copyOf(required.getPropertiesList()).stream()
        .map(p -> p.getName() + "=" + p.getValue()).toList();
  }
}
