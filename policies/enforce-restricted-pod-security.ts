import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { podSpecOf, UNKNOWN } from "../model/resources";
import { restrictedPodSecurity } from "./lib/podSecurity";
import { resourcePolicy, result } from "./lib/policy";
import { message } from "./lib/resources";
import { POD_TYPES } from "./lib/types";

export const NAME = "enforce-restricted-pod-security";

/** Pod Security Standards "restricted": what the namespaces enforce, checked before the API server refuses the pod. */
export function enforceRestrictedPodSecurity(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return resourcePolicy({
    name: NAME,
    description:
      "Every pod meets the Pod Security Standards restricted profile: non-root, no privilege escalation, seccomp, dropped capabilities, allowed volume types.",
    enforcementLevel,
    types: POD_TYPES,
    check: (r) => {
      const out = result();
      const pod = podSpecOf(r);
      if (pod === undefined) return out;
      if (pod.spec === UNKNOWN) {
        out.unknown.push(pod.path);
        return out;
      }
      const res = restrictedPodSecurity(pod.spec, pod.path);
      out.unknown.push(...res.unknown);
      for (const f of res.findings) {
        out.findings.push({
          message: message(
            `${r.name}: ${f}`,
            'the environment\'s namespace enforces Pod Security "restricted", so the API server would refuse the pod, and a container that can become root can escape to the node',
            "use the restricted security context of model/workload.ts (podSecurityContext, containerSecurityContext) for every container",
          ),
        });
      }
      return out;
    },
  });
}
