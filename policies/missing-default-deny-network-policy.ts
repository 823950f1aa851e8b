import type { EnforcementLevel, StackValidationPolicy } from "@pulumi/policy";
import { canConnect, canReachExternal } from "../model/reachability/connect";
import { compileWorld } from "../model/reachability/compile";
import type { NetworkPolicy, PodRef } from "../model/reachability/types";
import { isObject, kindOf, labelsOf, metadataField, podSpecOf } from "../model/resources";
import { toNetworkPolicy } from "../model/reachability/fromResources";
import { type Finding, stackPolicy, type StackUnknown } from "./lib/policy";
import { message } from "./lib/resources";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.missingDefaultDenyNetworkPolicy;

/** A source outside every namespace of the stack, to ask whether ingress is isolated. */
const OUTSIDER: PodRef = {
  namespace: "default-deny-probe",
  labels: {},
  name: "a pod of another namespace",
};

export function missingDefaultDenyNetworkPolicy(
  enforcementLevel: EnforcementLevel = "mandatory",
): StackValidationPolicy {
  return stackPolicy({
    name: NAME,
    description:
      "Every namespace the stack creates isolates all of its pods for both ingress and egress (a default deny).",
    enforcementLevel,
    check: (resources) => {
      const findings: Finding[] = [];
      const unknown: StackUnknown[] = [];
      const namespaces: { name: string; labels: Record<string, string>; urn: string }[] = [];
      for (const r of resources) {
        if (kindOf(r.type) !== "Namespace") continue;
        const name = metadataField(r.props, "name");
        if (typeof name === "string")
          namespaces.push({ name, labels: labelsOf(r.props), urn: r.urn ?? r.name });
        else if (name !== undefined)
          unknown.push({ urn: r.urn ?? r.name, path: ["metadata", "name"] });
      }
      const policies: NetworkPolicy[] = [];
      for (const r of resources.filter((x) => kindOf(x.type) === "NetworkPolicy")) {
        const p = toNetworkPolicy(r);
        if (p === undefined) {
          // Its namespace or rules are not known yet: whether a namespace is isolated is decided at `up`.
          unknown.push({
            urn: r.urn ?? r.name,
            path: isObject(r.props.spec) ? ["metadata", "namespace"] : ["spec"],
          });
          return { findings, unknown };
        }
        try {
          compileWorld({ namespaces: [], policies: [p] });
          policies.push(p);
        } catch {
          // Invalid: the API server refuses it with its own message; it isolates nothing.
        }
      }
      const world = compileWorld({
        namespaces: namespaces.map((n) => ({ metadata: { name: n.name, labels: n.labels } })),
        policies,
      });
      for (const ns of namespaces) {
        // Every pod template of the namespace, and a pod with no labels, which stands for any other.
        // Pods with the same labels are selected alike: one probe per distinct label set.
        const pods = new Map<string, PodRef>([
          ["[]", { namespace: ns.name, labels: {}, name: "any pod" }],
        ]);
        for (const r of resources) {
          const pod = podSpecOf(r);
          if (pod?.template === undefined || metadataField(r.props, "namespace") !== ns.name)
            continue;
          const labels = labelsOf(pod.template);
          const key = JSON.stringify(Object.entries(labels).sort());
          if (!pods.has(key)) pods.set(key, { namespace: ns.name, labels, name: r.name });
        }
        const open = new Set<string>();
        for (const pod of pods.values()) {
          if (!canConnect(world, OUTSIDER, pod).ingress.isolated) open.add("ingress");
          if (!canReachExternal(world, pod).egress.isolated) open.add("egress");
        }
        for (const direction of open) {
          findings.push({
            urn: ns.urn,
            message: message(
              `namespace ${ns.name}: some pods are not isolated for ${direction}`,
              `without a default deny, every ${direction} not listed is allowed, so one missing rule opens the namespace instead of closing it`,
              "add a NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] and no rules (model/network.ts default-deny)",
            ),
          });
        }
      }
      return { findings, unknown };
    },
  });
}
