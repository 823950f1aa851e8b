/**
 * Which items parity compares between two environments, and what each may do: be identical, differ
 * for a stated reason, or differ always (secret values). An id is `prefix` or `prefix:<subject>`
 * (`flag:checkout-v2`). The rest of model/parity/ reads these rules, so a change of what "parity"
 * means is an edit here, and the program and the policies agree by construction.
 */

export type ItemKind = "identical" | "may-differ" | "must-differ";

export interface ItemRule {
  /** Exact id (no colon) or the prefix of ids `prefix:<subject>`. */
  prefix: string;
  kind: ItemKind;
  /** Human words for the item, from the subject after the colon. */
  label: (subject: string) => string;
  /** Why it may differ (may-differ items). */
  reason?: string;
  /** How to make the two sides equal again (identical items). */
  fix?: string;
}

export const ITEM_RULES: readonly ItemRule[] = [
  {
    prefix: "image",
    kind: "identical",
    label: (c) => `the image of container ${c}`,
    fix: "deploy the image the environment below verified, pinned by the same digest",
  },
  {
    prefix: "flag",
    kind: "identical",
    label: (f) => `feature flag ${f}`,
    fix: "give the flag the same value in both stacks (featureFlags)",
  },
  {
    prefix: "envNames",
    kind: "identical",
    label: (c) => `the set of env var names of container ${c}`,
    fix: "give the container the same env vars in both environments (values may differ)",
  },
  {
    prefix: "configMapKeys",
    kind: "identical",
    label: () => "the set of config keys the workload mounts",
    fix: "mount the same ConfigMap keys in both environments (appSource and feature files)",
  },
  {
    prefix: "migration",
    kind: "identical",
    label: (f) => `migration file ${f}`,
    fix: "run the same migration files, with the same content, in order through every environment",
  },
  {
    prefix: "probes",
    kind: "identical",
    label: (c) => `the probes of container ${c}`,
    fix: "use the same readiness, liveness and startup probes in both environments",
  },
  {
    prefix: "securityContext",
    kind: "identical",
    label: (c) =>
      c === "pod" ? "the pod security context" : `the security context of container ${c}`,
    fix: "use the same security context in both environments",
  },
  {
    prefix: "replicas",
    kind: "may-differ",
    label: () => "replicas",
    reason: "scale is sized per environment (each column shows its own)",
  },
  {
    prefix: "resources",
    kind: "may-differ",
    label: (c) => `requests and limits of container ${c}`,
    reason: "requests and limits are sized for each environment's load",
  },
  {
    prefix: "hosts",
    kind: "may-differ",
    label: () => "ingress hosts",
    reason: "each environment serves its own host name",
  },
  {
    prefix: "network",
    kind: "may-differ",
    label: (d) => `network allowances (${d})`,
    reason:
      "network allowances are set per environment; traffic between environments is checked apart (the isolation matrix and the network policies)",
  },
  {
    prefix: "secretValues",
    kind: "must-differ",
    label: () => "secret values",
    reason: "each environment has its own secret values",
  },
];

/** The rule of an item id, by its prefix; undefined for an id this version does not know. */
export function ruleFor(id: string): ItemRule | undefined {
  const colon = id.indexOf(":");
  const prefix = colon < 0 ? id : id.slice(0, colon);
  return ITEM_RULES.find((r) => r.prefix === prefix);
}

function subjectOf(id: string): string {
  const colon = id.indexOf(":");
  return colon < 0 ? "" : id.slice(colon + 1);
}

export function itemKind(id: string): ItemKind | undefined {
  return ruleFor(id)?.kind;
}

/** Human words for an item id: `flag:checkout-v2` is "feature flag checkout-v2". */
export function itemLabel(id: string): string {
  const rule = ruleFor(id);
  return rule ? rule.label(subjectOf(id)) : id;
}

/** What to do when an identical item differs. */
export function itemFix(id: string): string {
  return ruleFor(id)?.fix ?? "make both environments the same";
}

/** Why a may-differ item may differ. */
export function itemReason(id: string): string | undefined {
  return ruleFor(id)?.reason;
}

/** Items may-differ or identical, in the order verify prints them. */
export function itemOrder(id: string): number {
  const rule = ruleFor(id);
  return rule ? ITEM_RULES.indexOf(rule) : ITEM_RULES.length;
}
