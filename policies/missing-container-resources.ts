import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, isObject, isUnknown, podSpecOf, UNKNOWN } from "../model/resources";
import { resourcePolicy, result } from "./lib/policy";
import { message } from "./lib/resources";
import { POD_TYPES } from "./lib/types";

export const NAME = "missing-container-resources";

export function missingContainerResources(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return resourcePolicy({
    name: NAME,
    description: "Every container sets CPU and memory requests and limits.",
    enforcementLevel,
    types: POD_TYPES,
    check: (r) => {
      const out = result();
      const pod = podSpecOf(r);
      if (pod === undefined) return out;
      if (pod.spec === UNKNOWN) return (out.unknown.push(pod.path), out);
      for (const c of containersOf(pod.spec, pod.path, out.unknown)) {
        if (c.group === "ephemeralContainers") continue; // debugging containers take no resources
        const res = c.container.resources;
        if (isUnknown(res)) {
          out.unknown.push([...c.path, "resources"]);
          continue;
        }
        const missing: string[] = [];
        for (const part of ["requests", "limits"]) {
          const spec = isObject(res) ? res[part] : undefined;
          if (isUnknown(spec)) {
            out.unknown.push([...c.path, "resources", part]);
            continue;
          }
          for (const k of ["cpu", "memory"]) {
            const v = isObject(spec) ? spec[k] : undefined;
            if (isUnknown(v)) out.unknown.push([...c.path, "resources", part, k]);
            else if (v === undefined || v === null || v === "") missing.push(`${part}.${k}`);
          }
        }
        if (missing.length > 0) {
          out.findings.push({
            message: message(
              `${r.name}: container ${c.name} sets no ${missing.join(", ")}`,
              "without requests the scheduler packs pods blindly, and without limits one pod can starve the node and the namespace quota refuses it",
              "set resources.requests and resources.limits (cpu and memory) on the container, as the stack's resources config does for the app",
            ),
          });
        }
      }
      return out;
    },
  });
}
