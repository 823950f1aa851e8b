import type { EnforcementLevel, StackValidationPolicy } from "@pulumi/policy";
import { environmentBelow } from "../model/environment";
import { compareParity } from "../model/parity/compare";
import { itemFix } from "../model/parity/items";
import { PARITY_EXCEPTIONS_KEY, parseParityExceptions, todayUtc } from "../model/parity/exceptions";
import { parityFromResources } from "../model/parity/fromResources";
import { readBaseline } from "./lib/baseline";
import { PARITY_SCHEMA, type Finding, stackPolicy, type StackUnknown } from "./lib/policy";
import { environmentOfStack, message, parityExceptionsConfig } from "./lib/resources";
import { POLICY } from "../model/policyNames";

export const NAME = POLICY.enforceEnvironmentParity;

const EXCEPTIONS_KEY = `env-progression:${PARITY_EXCEPTIONS_KEY}`;

export function enforceEnvironmentParity(
  enforcementLevel: EnforcementLevel = "mandatory",
): StackValidationPolicy {
  return stackPolicy({
    name: NAME,
    description:
      "What must be identical to the environment below is: image digest, feature flags, config and env keys, migrations, probes, security context.",
    enforcementLevel,
    configSchema: PARITY_SCHEMA,
    check: (resources, args) => {
      const findings: Finding[] = [];
      const unknown: StackUnknown[] = [];
      const env = environmentOfStack(resources);
      const below = environmentBelow(env);
      if (below === undefined) return { findings, unknown };
      const produce =
        `export the parityBaseline output of ${below} (pulumi stack output parityBaseline --json -s ${below}) into the ` +
        `policy config of ${NAME} and disallow-lower-environment-secrets, and pass it with --policy-pack-config`;
      const config = args.getConfig<{ baseline?: unknown; exceptions?: unknown }>();
      const baseline = readBaseline(config, env);
      if (baseline.missing) {
        findings.push({
          message: message(
            `${env} has no parity baseline of ${below} to compare with`,
            "without it nothing checks that this environment runs what the one below verified",
            produce,
          ),
        });
        return { findings, unknown };
      }
      if (baseline.document === undefined) {
        for (const p of baseline.problems) {
          findings.push({
            message: message(
              `the parity baseline cannot be used: ${p}`,
              "a baseline that cannot be read compares nothing",
              produce,
            ),
          });
        }
        return { findings, unknown };
      }
      // The stack's own config, as the engine hands it to the pack; or, when a tool runs one pack
      // for several stacks (verify), the exceptions it puts in this policy's config.
      const parsed =
        config.exceptions !== undefined
          ? parseParityExceptions(config.exceptions, `${EXCEPTIONS_KEY} (policy config exceptions)`)
          : parseParityExceptions(parityExceptionsConfig());
      for (const e of parsed.errors) {
        findings.push({
          message: message(
            `a parity exception of ${env} is invalid: ${e}`,
            "an exception needs the item, a reason and an expiry date, so that every difference is explained and ends",
            `correct ${EXCEPTIONS_KEY} in Pulumi.${env}.yaml`,
          ),
        });
      }
      const current = parityFromResources(resources, { environment: env });
      for (const u of current.unknown) unknown.push({ urn: u.urn ?? u.resource, path: u.path });
      const comparison = compareParity(
        baseline.document,
        current.document,
        parsed.exceptions,
        todayUtc(),
      );
      for (const item of comparison.items) {
        if (item.status !== "forbidden" || item.id === "secretValues") continue;
        const source = current.sources[item.id];
        findings.push({
          ...(source !== undefined && source.startsWith("urn:") ? { urn: source } : {}),
          message: message(
            `${item.label} (${item.id}) is not identical to ${below}`,
            `${item.reason ?? "it differs"}; ${env} must run what ${below} verified, or a difference reaches ${env} that nothing tested ("Feature flag on in staging. Off in prod.")`,
            `${itemFix(item.id)}; or, if the difference is intended, add {item: ${item.id}, reason: <why>, expires: <YYYY-MM-DD>} to ${EXCEPTIONS_KEY} in Pulumi.${env}.yaml`,
          ),
        });
      }
      return { findings, unknown };
    },
  });
}
