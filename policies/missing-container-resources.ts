import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { isObject, isUnknown } from "../model/resources";
import { podPolicy } from "./lib/podPolicy";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.missingContainerResources;

export function missingContainerResources(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return podPolicy({
    name: NAME,
    description: "Every container sets CPU and memory requests and limits.",
    enforcementLevel,
    why: "without requests the scheduler packs pods blindly, and without limits one pod can starve the node and the namespace quota refuses it",
    fix: "set resources.requests and resources.limits (cpu and memory) on the container, as the stack's resources config does for the app",
    // Init containers count towards the pod's requests and the quota; debugging containers take none.
    containers: {
      groups: ["containers", "initContainers"],
      check: (c, _pod, unknown) => {
        const res = c.container.resources;
        if (isUnknown(res)) {
          unknown.push([...c.path, "resources"]);
          return undefined;
        }
        const missing: string[] = [];
        for (const part of ["requests", "limits"]) {
          const spec = isObject(res) ? res[part] : undefined;
          if (isUnknown(spec)) {
            unknown.push([...c.path, "resources", part]);
            continue;
          }
          for (const k of ["cpu", "memory"]) {
            const v = isObject(spec) ? spec[k] : undefined;
            if (isUnknown(v)) unknown.push([...c.path, "resources", part, k]);
            else if (v === undefined || v === null || v === "") missing.push(`${part}.${k}`);
          }
        }
        return missing.length > 0 ? `container ${c.name} sets no ${missing.join(", ")}` : undefined;
      },
    },
  });
}
