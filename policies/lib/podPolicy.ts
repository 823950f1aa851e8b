/**
 * How a rule about pods becomes a policy over every workload that runs them: a bare Pod, the pod
 * template of a Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController or Job, and
 * a CronJob's job template (model/resources.ts podSpecOf finds it). The rule is written once, per
 * pod spec, per container of the groups it holds for, or both; every message it yields names the
 * resource and carries the rule's reason and fix.
 */
import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import type { EnvName } from "../../model/environment";
import {
  type ContainerAt,
  type ContainerGroup,
  containersOf,
  type KubeResource,
  podSpecOf,
  UNKNOWN,
} from "../../model/resources";
import { resourcePolicy, result } from "./policy";
import { environmentOf, message } from "./resources";
import { POD_TYPES } from "./types";

/** A workload as a pod rule first sees it, before its pod spec is read. */
export interface Workload {
  resource: KubeResource;
  /** The environment whose rules apply to it (lib/resources.ts environmentOf). */
  env: EnvName;
  /** The pod template (its metadata has the pod's labels), or the Pod itself. */
  template: Record<string, unknown> | undefined;
}

/** A workload whose pod spec is known. */
export interface PodAt extends Workload {
  spec: Record<string, unknown>;
  /** Where the spec is inside the resource (a CronJob's: spec.jobTemplate.spec.template.spec). */
  path: string[];
}

export interface PodPolicyArgs {
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  /** The types it reads; by default every type that runs pods. */
  types?: readonly string[];
  /** Whether the rule holds for this workload at all (its environment, its labels); by default yes. */
  applies?: (w: Workload) => boolean;
  /**
   * Whether the rule reads this pod, once its spec is known (a bare Pod by its restartPolicy, say);
   * by default yes. A value it needs that is unknown during preview goes to `unknown`, and it
   * answers no: the policy waits.
   */
  readsPod?: (pod: PodAt, unknown: string[][]) => boolean;
  /** Why a problem matters, and how to fix it; the same for every problem the rule finds. */
  why: string;
  fix: string | ((env: EnvName) => string);
  /**
   * Problems of the pod as a whole, each said without any property's value ("container app is
   * privileged"). A path whose value is unknown during preview goes to `unknown` instead.
   */
  pod?: (pod: PodAt, unknown: string[][]) => readonly string[];
  /** Problems of one container, of only the groups the rule holds for. */
  containers?: {
    groups: readonly ContainerGroup[];
    check: (c: ContainerAt, pod: PodAt, unknown: string[][]) => string | undefined;
  };
}

export function podPolicy(a: PodPolicyArgs): ResourceValidationPolicy {
  const groups = new Set<string>(a.containers?.groups ?? []);
  return resourcePolicy({
    name: a.name,
    description: a.description,
    enforcementLevel: a.enforcementLevel,
    types: a.types ?? POD_TYPES,
    check: (resource) => {
      const out = result();
      const found = podSpecOf(resource);
      if (found === undefined) return out;
      const workload: Workload = {
        resource,
        env: environmentOf(resource.props),
        template: found.template,
      };
      if (a.applies !== undefined && !a.applies(workload)) return out;
      if (found.spec === UNKNOWN) return (out.unknown.push(found.path), out);
      const pod: PodAt = { ...workload, spec: found.spec, path: found.path };
      if (a.readsPod !== undefined && !a.readsPod(pod, out.unknown)) return out;
      const problems = [...(a.pod?.(pod, out.unknown) ?? [])];
      if (a.containers !== undefined) {
        // An unknown group the rule does not read would only add a needless preview advisory.
        const unknownGroups: string[][] = [];
        const all = containersOf(pod.spec, pod.path, unknownGroups);
        out.unknown.push(...unknownGroups.filter((p) => groups.has(p[pod.path.length] ?? "")));
        for (const c of all) {
          if (!groups.has(c.group)) continue;
          const problem = a.containers.check(c, pod, out.unknown);
          if (problem !== undefined) problems.push(problem);
        }
      }
      const fix = typeof a.fix === "string" ? a.fix : a.fix(workload.env);
      for (const p of problems)
        out.findings.push({ message: message(`${resource.name}: ${p}`, a.why, fix) });
      return out;
    },
  });
}
