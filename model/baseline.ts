/**
 * How one environment's parity baseline reaches the policy pack of the environment above.
 *
 * CrossGuard cannot read another stack (pulumi/pulumi-policy#195), so the lower stack exports its
 * baseline (stack output `parityBaseline`) and the pipeline hands it to the higher stack's
 * `pulumi preview|up --policy-pack policies --policy-pack-config <file>`. A policy reads only its
 * own entry of that file, so every policy that compares with the environment below gets a copy.
 */
import { POLICY } from "./policyNames";

/** Policies that read the baseline of the environment below from their config. */
export const BASELINE_POLICIES = [POLICY.enforceEnvironmentParity, POLICY.disallowLowerEnvironmentSecrets] as const;

/**
 * The `--policy-pack-config` document for a stack whose lower environment exported `baseline`.
 * `older`: the baselines of the environments further below (prod: dev's), so that the secret
 * policy also refuses a value from two environments down.
 */
export function policyPackConfig(
  baseline: unknown,
  older: readonly unknown[] = [],
): Record<string, Record<string, unknown>> {
  const config: Record<string, Record<string, unknown>> = {};
  for (const policy of BASELINE_POLICIES) config[policy] = { baseline };
  const secrets = config[POLICY.disallowLowerEnvironmentSecrets];
  if (secrets !== undefined && older.length > 0) secrets.lowerBaselines = [...older];
  return config;
}
