import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, isUnknown, podSpecOf, UNKNOWN } from "../model/resources";
import { resourcePolicy, result } from "./lib/policy";
import { message } from "./lib/resources";
import { LONG_RUNNING_TYPES } from "./lib/types";

export const NAME = "missing-health-probes";

export function missingHealthProbes(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return resourcePolicy({
    name: NAME,
    description: "Every container of a long-running workload has a readiness and a liveness probe.",
    enforcementLevel,
    types: LONG_RUNNING_TYPES,
    check: (r) => {
      const out = result();
      const pod = podSpecOf(r);
      if (pod === undefined) return out;
      if (pod.spec === UNKNOWN) return (out.unknown.push(pod.path), out);
      for (const c of containersOf(pod.spec, pod.path, out.unknown)) {
        if (c.group !== "containers") continue;
        const missing: string[] = [];
        for (const probe of ["readinessProbe", "livenessProbe"]) {
          const v = c.container[probe];
          if (isUnknown(v)) out.unknown.push([...c.path, probe]);
          else if (v === undefined || v === null) missing.push(probe);
        }
        if (missing.length > 0) {
          out.findings.push({
            message: message(
              `${r.name}: container ${c.name} has no ${missing.join(" and no ")}`,
              "without readiness a rollout sends traffic to pods that cannot serve it, and without liveness a wedged process is never restarted",
              "add readinessProbe and livenessProbe (model/workload.ts httpProbes checks /healthz)",
            ),
          });
        }
      }
      return out;
    },
  });
}
