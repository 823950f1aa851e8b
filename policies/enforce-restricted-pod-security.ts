import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { podPolicy } from "./lib/podPolicy";
import { restrictedPodSecurity } from "./lib/podSecurity";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.enforceRestrictedPodSecurity;

/** Pod Security Standards "restricted": what the namespaces enforce, checked before the API server refuses the pod. */
export function enforceRestrictedPodSecurity(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return podPolicy({
    name: NAME,
    description:
      "Every pod meets the Pod Security Standards restricted profile: non-root, no privilege escalation, seccomp, dropped capabilities, allowed volume types.",
    enforcementLevel,
    why: 'the environment\'s namespace enforces Pod Security "restricted", so the API server would refuse the pod, and a container that can become root can escape to the node',
    fix: "use the restricted security context of model/workload.ts (podSecurityContext, containerSecurityContext) for every container",
    // Every container group: the admission check reads init and ephemeral containers too.
    pod: (pod, unknown) => {
      const res = restrictedPodSecurity(pod.spec, pod.path);
      unknown.push(...res.unknown);
      return res.findings;
    },
  });
}
