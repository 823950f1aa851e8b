import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { containsUnknown, isObject, isUnknown } from "../model/resources";
import { activeRules } from "../model/reachability/fromResources";
import { resourcePolicy, result } from "./lib/policy";
import { environmentOf, message } from "./lib/resources";
import { T } from "./lib/types";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.disallowInternetEgressInProd;

/** A CIDR with prefix length 0: the whole address family (0.0.0.0/0, ::/0). */
function isWholeFamily(cidr: unknown): boolean {
  return typeof cidr === "string" && /\/0$/.test(cidr.trim());
}

export function disallowInternetEgressInProd(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return resourcePolicy({
    name: NAME,
    description:
      "In prod, no NetworkPolicy allows egress to 0.0.0.0/0 or ::/0, or egress to any destination.",
    enforcementLevel,
    types: [T.networkPolicy],
    check: (r) => {
      const out = result();
      if (environmentOf(r.props) !== "prod") return out;
      const spec = r.props.spec;
      if (isUnknown(spec)) return (out.unknown.push(["spec"]), out);
      if (!isObject(spec)) return out;
      for (const rule of activeRules(spec)) {
        if (rule.direction !== "egress") continue;
        const finding = (what: string) =>
          out.findings.push({
            message: message(
              `${r.name}: egress rule ${rule.index} ${what}`,
              "prod is locked down: a compromised pod that can reach the whole internet can send data anywhere",
              "allow only the CIDRs prod needs (env-progression:egressCidrs in Pulumi.prod.yaml), never a whole address family",
            ),
          });
        if (rule.peers === undefined) {
          if (!containsUnknown(spec.egress)) finding("has no to, so it allows every destination");
          continue;
        }
        rule.peers.forEach((peer, i) => {
          if (!isObject(peer) || !isObject(peer.ipBlock)) return;
          if (isUnknown(peer.ipBlock.cidr))
            return void out.unknown.push([...rule.path, "to", String(i), "ipBlock", "cidr"]);
          if (isWholeFamily(peer.ipBlock.cidr))
            finding(`allows a whole address family (to[${i}].ipBlock)`);
        });
      }
      return out;
    },
  });
}
