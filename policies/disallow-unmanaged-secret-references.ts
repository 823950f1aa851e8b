import type { EnforcementLevel, StackValidationPolicy } from "@pulumi/policy";
import { secretReferencesOf } from "../model/secrets/references";
import { kindOf, metadataField, podSpecOf, UNKNOWN } from "../model/resources";
import { environmentNamespaces } from "../model/reachability/fromResources";
import { type Finding, stackPolicy, type StackUnknown } from "./lib/policy";
import { message } from "./lib/resources";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.disallowUnmanagedSecretReferences;

export function disallowUnmanagedSecretReferences(
  enforcementLevel: EnforcementLevel = "mandatory",
): StackValidationPolicy {
  return stackPolicy({
    name: NAME,
    description:
      "Pods refer only to Secrets that this stack manages, in its own environment's namespace.",
    enforcementLevel,
    check: (resources) => {
      const findings: Finding[] = [];
      const unknown: StackUnknown[] = [];
      const ownNamespaces = new Set(environmentNamespaces(resources).map((n) => n.name));
      const managed = new Set<string>();
      for (const r of resources) {
        if (kindOf(r.type) !== "Secret") continue;
        const name = metadataField(r.props, "name");
        const ns = metadataField(r.props, "namespace");
        if (typeof name === "string" && typeof ns === "string") managed.add(`${ns}/${name}`);
      }
      for (const r of resources) {
        const pod = podSpecOf(r);
        if (pod === undefined) continue;
        const urn = r.urn ?? r.name;
        if (pod.spec === UNKNOWN) {
          unknown.push({ urn, path: pod.path });
          continue;
        }
        const paths: string[][] = [];
        const refs = secretReferencesOf(pod.spec, pod.path, paths);
        paths.forEach((path) => unknown.push({ urn, path }));
        if (refs.length === 0) continue;
        const namespace = metadataField(r.props, "namespace");
        if (typeof namespace !== "string") {
          if (namespace !== undefined) unknown.push({ urn, path: ["metadata", "namespace"] });
          else {
            findings.push({
              urn,
              message: message(
                `${r.name} refers to Secrets but names no namespace`,
                "it would run in whatever namespace is current, and read that namespace's Secrets, another environment's included",
                "set metadata.namespace to the environment's namespace",
              ),
            });
          }
          continue;
        }
        if (ownNamespaces.size > 0 && !ownNamespaces.has(namespace)) {
          findings.push({
            urn,
            message: message(
              `${r.name} runs in namespace ${namespace}, which is not this environment's`,
              "a pod reads the Secrets of the namespace it runs in, so it would use another environment's credentials",
              "deploy the workload into the stack's own namespace",
            ),
          });
          continue;
        }
        for (const ref of refs) {
          if (managed.has(`${namespace}/${ref.secret}`)) continue;
          findings.push({
            urn,
            message: message(
              `${r.name}: ${ref.where} refers to Secret ${ref.secret}, which this stack does not manage`,
              'a Secret the stack does not create may hold another environment\'s value ("The config used a dev secret")',
              "create the Secret in this stack from the environment's own encrypted config (pulumi config set --secret) and refer to that",
            ),
          });
        }
      }
      return { findings, unknown };
    },
  });
}
