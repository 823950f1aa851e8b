/**
 * The policy config the engine gives a pack: ReconcilePolicyPackConfig over the pack's own
 * description and the --policy-pack-config document, checked as the CLI checks it.
 */
import { type EnforcementLevel, LEVEL_PB, type PackInfo } from "./response";

export type PolicyPackConfigFile = Record<string, unknown>;

/**
 * The engine's policy config for a pack: every policy at its default level with its schema's
 * defaults, then the file's values over them (ReconcilePolicyPackConfig), checked against each
 * policy's schema as the CLI checks it (required properties, object types).
 */
export function reconcilePolicyConfig(
  info: PackInfo,
  file: PolicyPackConfigFile = {},
): {
  config: Record<
    string,
    { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }
  >;
  errors: string[];
} {
  const errors: string[] = [];
  const config: Record<
    string,
    { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }
  > = {};
  const byName = new Map(info.policies.map((p) => [p.name, p]));
  for (const p of info.policies) {
    const properties: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(p.configSchema?.properties ?? {}))
      if ("default" in s) properties[k] = s.default;
    config[p.name] = { enforcementLevel: p.enforcementLevel, properties };
  }
  for (const [name, value] of Object.entries(file)) {
    const target = name === "all" ? [...byName.keys()] : [name];
    if (name !== "all" && !byName.has(name)) {
      errors.push(`policy pack config: "${name}" is not a policy of ${info.name}`);
      continue;
    }
    for (const t of target) {
      const c = config[t] as {
        enforcementLevel: EnforcementLevel;
        properties: Record<string, unknown>;
      };
      if (typeof value === "string") c.enforcementLevel = value as EnforcementLevel;
      else if (value !== null && typeof value === "object") {
        const { enforcementLevel, ...props } = value as Record<string, unknown>;
        if (typeof enforcementLevel === "string")
          c.enforcementLevel = enforcementLevel as EnforcementLevel;
        Object.assign(c.properties, props);
      }
    }
  }
  for (const [name, c] of Object.entries(config)) {
    if (!(c.enforcementLevel in LEVEL_PB))
      errors.push(
        `policy pack config: ${name}: enforcementLevel must be advisory, mandatory, remediate or disabled`,
      );
    const schema = byName.get(name)?.configSchema;
    for (const req of schema?.required ?? [])
      if (!(req in c.properties)) errors.push(`policy pack config: ${name}: ${req} is required`);
    for (const [k, s] of Object.entries(schema?.properties ?? {})) {
      const v = c.properties[k];
      if (v === undefined || s.type === undefined) continue;
      const actual = Array.isArray(v) ? "array" : v === null ? "null" : typeof v;
      if (
        s.type === "object"
          ? actual !== "object"
          : s.type === "integer"
            ? !Number.isInteger(v)
            : actual !== s.type
      ) {
        errors.push(`policy pack config: ${name}: ${k} must be of type ${String(s.type)}`);
      }
    }
  }
  return { config, errors };
}
