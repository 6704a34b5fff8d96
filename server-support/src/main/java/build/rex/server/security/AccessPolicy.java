package build.rex.server.security;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Which identity holds which rights on which instance, from {@link AuthConfig}'s grants. */
public final class AccessPolicy {
  private record Grant(Set<String> identities, List<String> instances, Set<Right> rights) {
    boolean covers(Identity identity) {
      return identities.contains(identity.name()) || (identities.contains("*") && !identity.isAnonymous());
    }

    boolean coversInstance(String instance) {
      for (String pattern : instances) {
        if (pattern.equals("*") || pattern.equals(instance)
            || (pattern.endsWith("/*") && instance.startsWith(pattern.substring(0, pattern.length() - 1)))) {
          return true;
        }
      }
      return false;
    }
  }

  private final List<Grant> grants;
  private final Set<Right> anonymous;

  public AccessPolicy(AuthConfig config) {
    grants = config.grants.stream()
        .map(grant -> new Grant(Set.copyOf(grant.identities), List.copyOf(grant.instances), rights(grant.rights)))
        .toList();
    anonymous = rights(config.anonymous);
  }

  /** Whether {@code identity} may use one of {@code anyOf} on {@code instance}. */
  public boolean allows(Identity identity, String instance, Set<Right> anyOf) {
    if (identity.isAnonymous() && anyOf.stream().anyMatch(anonymous::contains)) {
      return true;
    }
    return grants.stream().anyMatch(grant -> grant.covers(identity) && grant.coversInstance(instance)
        && anyOf.stream().anyMatch(grant.rights::contains));
  }

  /**
   * Whether {@code identity} holds {@code right} on some instance: for calls that name an
   * operation rather than an instance (WaitExecution, GetOperation).
   */
  public boolean allowsSomewhere(Identity identity, Right right) {
    return (identity.isAnonymous() && anonymous.contains(right))
        || grants.stream().anyMatch(grant -> grant.covers(identity) && grant.rights.contains(right));
  }

  private static Set<Right> rights(List<String> names) {
    Set<Right> rights = EnumSet.noneOf(Right.class);
    names.forEach(name -> rights.add(Right.parse(name)));
    return rights;
  }
}
