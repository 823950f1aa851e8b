import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { isObject, isUnknown } from "../model/resources";
import { resourcePolicy, result } from "./lib/policy";
import { environmentOf, message } from "./lib/resources";
import { T } from "./lib/types";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.enforceMinimumReplicas;
export const MIN_REPLICAS = 2;

export function enforceMinimumReplicas(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return resourcePolicy({
    name: NAME,
    description: `In staging and prod, every Deployment runs at least ${MIN_REPLICAS} replicas, and no autoscaler goes below that.`,
    enforcementLevel,
    types: [T.deployment, T.hpaV2, T.hpaV1],
    check: (r) => {
      const out = result();
      const env = environmentOf(r.props);
      if (env === "dev") return out;
      const spec = r.props.spec;
      if (isUnknown(spec)) return (out.unknown.push(["spec"]), out);
      const field = r.type === T.deployment ? "replicas" : "minReplicas";
      const value = isObject(spec) ? spec[field] : undefined;
      if (isUnknown(value)) return (out.unknown.push(["spec", field]), out);
      // Kubernetes defaults both to 1 when unset.
      const n = typeof value === "number" ? value : 1;
      if (n < MIN_REPLICAS) {
        out.findings.push({
          message: message(
            `${r.name}: spec.${field} is below ${MIN_REPLICAS} in ${env}`,
            "a single pod means downtime on every rollout, node drain or crash, which staging must rehearse and prod must not have",
            `set replicas (and an autoscaler's minReplicas) to ${MIN_REPLICAS} or more in Pulumi.${env}.yaml`,
          ),
        });
      }
      return out;
    },
  });
}
