import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { NAMESPACE_NAME_LABEL } from "../model/reachability/types";
import { isObject } from "../model/resources";
import { namespaceSelectors, rulesOf } from "./lib/namespaceSelectors";
import { resourcePolicy, result } from "./lib/policy";
import { message } from "./lib/resources";
import { T } from "./lib/types";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.disallowMutableNamespaceSelector;

export function disallowMutableNamespaceSelector(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return resourcePolicy({
    name: NAME,
    description: `NetworkPolicy rules select namespaces only by ${NAMESPACE_NAME_LABEL}, never by a label a namespace can give itself.`,
    enforcementLevel,
    types: [T.networkPolicy],
    check: (r) => {
      const out = result();
      for (const rule of rulesOf(r.props.spec, out)) {
        for (const { selector: sel } of namespaceSelectors(rule, out)) {
          if (!isObject(sel)) continue;
          const keys = [
            ...(isObject(sel.matchLabels) ? Object.keys(sel.matchLabels) : []),
            ...(Array.isArray(sel.matchExpressions)
              ? sel.matchExpressions.map((e) => (isObject(e) ? String(e.key) : "?"))
              : []),
          ];
          const settable = [...new Set(keys.filter((k) => k !== NAMESPACE_NAME_LABEL))];
          if (settable.length > 0) {
            out.findings.push({
              message: message(
                `${r.name}: ${rule.direction} rule ${rule.index} selects namespaces by label ${settable.join(", ")}`,
                "anyone who can label a namespace can set that label, so a dev namespace that labels itself like prod gets prod's traffic",
                `select the namespace by ${NAMESPACE_NAME_LABEL}, which Kubernetes sets to the namespace's name and nobody can change`,
              ),
            });
          }
        }
      }
      return out;
    },
  });
}
