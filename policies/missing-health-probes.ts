import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { isUnknown } from "../model/resources";
import { type PodAt, podPolicy } from "./lib/podPolicy";
import { LONG_RUNNING_TYPES, T } from "./lib/types";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.missingHealthProbes;

export function missingHealthProbes(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return podPolicy({
    name: NAME,
    description:
      "Every container and sidecar of a long-running workload (a bare Pod too, unless it runs to an end) has a readiness and a liveness probe.",
    enforcementLevel,
    // A bare Pod too, unless it runs to an end: Kubernetes goes by restartPolicy, not the kind. A
    // Pod's restartPolicy defaults to Always, and the kubelet acts on its liveness probe and a
    // Service on its readiness as for any pod; one with Never or OnFailure runs to completion, as
    // a Job's pod does, and is not asked.
    types: [...LONG_RUNNING_TYPES, T.pod],
    readsPod: (pod, unknown) => pod.resource.type !== T.pod || runsToAnEnd(pod, unknown) === false,
    why: "without readiness a rollout sends traffic to pods that cannot serve it, and without liveness a wedged process is never restarted",
    fix: "add readinessProbe and livenessProbe (model/workload.ts httpProbes checks /healthz)",
    // A sidecar (an init container with restartPolicy: Always) runs for the pod's life, and its
    // probes count towards the pod's readiness, so it needs them as a container does. A plain
    // init container runs to completion first, and the API server refuses probes on it
    // ("may not be set for init containers without restartPolicy=Always").
    containers: {
      groups: ["containers", "initContainers"],
      check: (c, _pod, unknown) => {
        if (c.group === "initContainers") {
          const restartPolicy = c.container.restartPolicy;
          if (isUnknown(restartPolicy)) {
            unknown.push([...c.path, "restartPolicy"]);
            return undefined;
          }
          if (restartPolicy !== "Always") return undefined;
        }
        const missing: string[] = [];
        for (const probe of ["readinessProbe", "livenessProbe"]) {
          const v = c.container[probe];
          if (isUnknown(v)) unknown.push([...c.path, probe]);
          else if (v === undefined || v === null) missing.push(probe);
        }
        const who = c.group === "initContainers" ? "sidecar" : "container";
        return missing.length > 0
          ? `${who} ${c.name} has no ${missing.join(" and no ")}`
          : undefined;
      },
    },
  });
}

/**
 * Whether a bare Pod runs to an end (restartPolicy Never or OnFailure): true, false, or
 * undefined when its restartPolicy is unknown during preview (the path goes to `unknown`).
 */
function runsToAnEnd(pod: PodAt, unknown: string[][]): boolean | undefined {
  const restartPolicy = pod.spec.restartPolicy;
  if (isUnknown(restartPolicy)) {
    unknown.push([...pod.path, "restartPolicy"]);
    return undefined;
  }
  return restartPolicy === "Never" || restartPolicy === "OnFailure";
}
