import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { plainTextSites, plaintextSecretReasons } from "../model/secrets/sites";
import { kindOf } from "../model/resources";
import { resourcePolicy, result } from "./lib/policy";
import { message } from "./lib/resources";
import { PLAIN_TEXT_TYPES } from "./lib/types";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.disallowPlaintextSecrets;

export function disallowPlaintextSecrets(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return resourcePolicy({
    name: NAME,
    description:
      "No secret in plain env vars, ConfigMaps, annotations or command lines; secrets live in Secrets and are referenced.",
    enforcementLevel,
    types: PLAIN_TEXT_TYPES.filter((t) => kindOf(t) !== "Secret"),
    check: (r) => {
      const out = result();
      for (const site of plainTextSites(r, out.unknown)) {
        const reasons = plaintextSecretReasons(site);
        if (reasons.length === 0) continue;
        out.findings.push({
          message: message(
            `${r.name}: ${site.where} looks like it holds a secret in plain text (${reasons.join("; ")})`,
            "plain text is stored unencrypted in state, shown in diffs and logs, and readable by anyone who can read the resource",
            "keep the value in the stack's encrypted config, put it in a Secret of the environment's namespace, and refer to it (env valueFrom.secretKeyRef, a secret volume)",
          ),
        });
      }
      return out;
    },
  });
}
