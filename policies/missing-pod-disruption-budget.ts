import type { EnforcementLevel, StackValidationPolicy } from "@pulumi/policy";
import { matchesSelector } from "../model/reachability/compile";
import {
  UNKNOWN,
  containsUnknown,
  isObject,
  kindOf,
  labelsOf,
  metadataField,
  podSpecOf,
} from "../model/resources";
import { type Finding, stackPolicy, type StackUnknown } from "./lib/policy";
import { environmentOfStack, message } from "./lib/resources";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.missingPodDisruptionBudget;

export function missingPodDisruptionBudget(
  enforcementLevel: EnforcementLevel = "mandatory",
): StackValidationPolicy {
  return stackPolicy({
    name: NAME,
    description:
      "In staging and prod, every Deployment's pods are covered by a PodDisruptionBudget.",
    enforcementLevel,
    check: (resources) => {
      const findings: Finding[] = [];
      const unknown: StackUnknown[] = [];
      const env = environmentOfStack(resources);
      if (env === "dev") return { findings, unknown };
      // The PDBs' selectors by namespace; one whose namespace or selector is unknown yet leaves
      // coverage to be decided at `up` (never a violation during a preview).
      const selectors = new Map<string, Record<string, unknown>[]>();
      let undecided = false;
      for (const pdb of resources.filter((r) => kindOf(r.type) === "PodDisruptionBudget")) {
        const ns = metadataField(pdb.props, "namespace");
        const selector = isObject(pdb.props.spec) ? pdb.props.spec.selector : undefined;
        if (ns === UNKNOWN || containsUnknown(selector)) {
          unknown.push({
            urn: pdb.urn ?? pdb.name,
            path: ns === UNKNOWN ? ["metadata", "namespace"] : ["spec", "selector"],
          });
          undecided = true;
        } else if (typeof ns === "string" && isObject(selector)) {
          selectors.set(ns, [...(selectors.get(ns) ?? []), selector]);
        }
      }
      for (const d of resources.filter((r) => kindOf(r.type) === "Deployment")) {
        const urn = d.urn ?? d.name;
        const namespace = metadataField(d.props, "namespace");
        const pod = podSpecOf(d);
        if (typeof namespace !== "string" || pod?.template === undefined) {
          if (namespace === UNKNOWN) unknown.push({ urn, path: ["metadata", "namespace"] });
          continue;
        }
        const labels = labelsOf(pod.template);
        const covered =
          undecided ||
          (selectors.get(namespace) ?? []).some((selector) => {
            try {
              return matchesSelector(selector as never, labels);
            } catch {
              return false; // an invalid selector covers nothing
            }
          });
        if (!covered) {
          findings.push({
            urn,
            message: message(
              `${d.name}: no PodDisruptionBudget covers its pods in ${env}`,
              "a node drain or cluster upgrade may evict every replica at once, and the environment goes down although it runs several",
              "add a PodDisruptionBudget in the same namespace whose selector matches the pod template's labels (maxUnavailable: 1)",
            ),
          });
        }
      }
      return { findings, unknown };
    },
  });
}
