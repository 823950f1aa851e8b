import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { isUnknown } from "../model/resources";
import { podPolicy } from "./lib/podPolicy";
import { LONG_RUNNING_TYPES } from "./lib/types";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.missingHealthProbes;

export function missingHealthProbes(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return podPolicy({
    name: NAME,
    description: "Every container of a long-running workload has a readiness and a liveness probe.",
    enforcementLevel,
    types: LONG_RUNNING_TYPES,
    why: "without readiness a rollout sends traffic to pods that cannot serve it, and without liveness a wedged process is never restarted",
    fix: "add readinessProbe and livenessProbe (model/workload.ts httpProbes checks /healthz)",
    // Init containers finish before the pod serves, so they have nothing to probe.
    containers: {
      groups: ["containers"],
      check: (c, _pod, unknown) => {
        const missing: string[] = [];
        for (const probe of ["readinessProbe", "livenessProbe"]) {
          const v = c.container[probe];
          if (isUnknown(v)) unknown.push([...c.path, probe]);
          else if (v === undefined || v === null) missing.push(probe);
        }
        return missing.length > 0
          ? `container ${c.name} has no ${missing.join(" and no ")}`
          : undefined;
      },
    },
  });
}
