import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { NAMESPACE_NAME_LABEL } from "../model/reachability/types";
import { matchesSelector } from "../model/reachability/compile";
import { containsUnknown } from "../model/resources";
import { namespaceSelectors, peerWord, rulesOf } from "./lib/namespaceSelectors";
import { resourcePolicy, result } from "./lib/policy";
import { message, pathText } from "./lib/resources";
import { T } from "./lib/types";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.disallowAllNamespacesSelector;

/** A namespace that has nothing but the label Kubernetes gives every namespace: if a selector matches it, it matches any. */
const ANY_NAMESPACE = { [NAMESPACE_NAME_LABEL]: "any-namespace-at-all" };

export function disallowAllNamespacesSelector(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return resourcePolicy({
    name: NAME,
    description:
      "No NetworkPolicy rule opens pods to every namespace: no namespaceSelector {} (or one that matches any namespace) and no rule without from/to.",
    enforcementLevel,
    types: [T.networkPolicy],
    check: (r) => {
      const out = result();
      for (const rule of rulesOf(r.props.spec, out)) {
        const where = `${r.name}: ${rule.direction} rule ${rule.index}`;
        const word = peerWord(rule);
        if (rule.peers === undefined) {
          if (containsUnknown((r.props.spec as Record<string, unknown>)[rule.direction])) continue;
          out.findings.push({
            message: message(
              `${where} has no ${word}`,
              `a rule without ${word} allows every pod of every namespace (other environments included) and every address`,
              `list the peers: podSelector: {} for the own namespace, namespaceSelector on ${NAMESPACE_NAME_LABEL} for a named one`,
            ),
          });
          continue;
        }
        for (const { selector, path } of namespaceSelectors(rule, out)) {
          let any: boolean;
          try {
            any = matchesSelector(selector as never, ANY_NAMESPACE);
          } catch {
            continue; // invalid selector: the API server refuses it with its own message
          }
          if (any) {
            out.findings.push({
              message: message(
                `${where}: ${pathText(path.slice(1))} selects every namespace`,
                "an empty (or all-matching) namespaceSelector lets pods of every namespace in, other environments' included",
                `select namespaces by ${NAMESPACE_NAME_LABEL} (matchLabels with the namespace's name), which Kubernetes sets and nobody can change`,
              ),
            });
          }
        }
      }
      return out;
    },
  });
}
