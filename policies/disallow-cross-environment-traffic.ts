import type { EnforcementLevel, StackValidationPolicy } from "@pulumi/policy";
import { matchesSelector } from "../model/reachability/compile";
import { containsUnknown, isObject, kindOf, metadataField } from "../model/resources";
import {
  activeRules,
  environmentNamespaces,
  otherEnvironmentNamespaces,
} from "../model/reachability/fromResources";
import { type Finding, stackPolicy, type StackUnknown } from "./lib/policy";
import { message } from "./lib/resources";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.disallowCrossEnvironmentTraffic;

export function disallowCrossEnvironmentTraffic(
  enforcementLevel: EnforcementLevel = "mandatory",
): StackValidationPolicy {
  return stackPolicy({
    name: NAME,
    description:
      "No NetworkPolicy of an environment selects, or lives in, another environment's namespace.",
    enforcementLevel,
    check: (resources) => {
      const findings: Finding[] = [];
      const unknown: StackUnknown[] = [];
      const own = environmentNamespaces(resources);
      const others = own
        .flatMap(otherEnvironmentNamespaces)
        .filter((o) => !own.some((n) => n.name === o.name));
      if (others.length === 0) return { findings, unknown };
      const fix =
        "allow traffic only inside the namespace and from the shared services it needs (model/network.ts); environments never talk to each other";
      for (const r of resources.filter((x) => kindOf(x.type) === "NetworkPolicy")) {
        const urn = r.urn ?? r.name;
        const namespace = metadataField(r.props, "namespace");
        const foreign = others.find((o) => o.name === namespace);
        if (foreign !== undefined) {
          findings.push({
            urn,
            message: message(
              `${r.name} is placed in namespace ${foreign.name} of environment ${foreign.env}`,
              "one environment's stack must not change another environment's isolation",
              "create NetworkPolicies only in the stack's own namespace",
            ),
          });
        }
        const spec = r.props.spec;
        if (!isObject(spec)) continue;
        for (const rule of activeRules(spec)) {
          const peerWord = rule.direction === "ingress" ? "from" : "to";
          (rule.peers ?? []).forEach((peer, i) => {
            if (!isObject(peer) || peer.namespaceSelector === undefined) return;
            if (containsUnknown(peer.namespaceSelector))
              return void unknown.push({
                urn,
                path: [...rule.path, peerWord, String(i), "namespaceSelector"],
              });
            const reached = others.filter((o) => {
              try {
                return matchesSelector(peer.namespaceSelector as never, o.labels);
              } catch {
                return false;
              }
            });
            if (reached.length > 0) {
              findings.push({
                urn,
                message: message(
                  `${r.name}: ${rule.direction} rule ${rule.index} reaches namespace ${reached.map((o) => `${o.name} (${o.env})`).join(", ")}`,
                  "environments are isolated from each other: a dev pod that can reach prod can read or break production data",
                  fix,
                ),
              });
            }
          });
        }
      }
      return { findings, unknown };
    },
  });
}
