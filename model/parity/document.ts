/**
 * What a parity document is: one environment's side, item by item, and its secrets' fingerprints.
 * The program exports its own as the stack output `parityBaseline`; the lower environment's reaches
 * the policy pack of the environment above as policy config (CrossGuard cannot read another stack:
 * pulumi/pulumi-policy#195), so a document from outside is checked here before it is used. The
 * policy recomputes the current side from the resources it is shown, so the export of the current
 * stack is never trusted; only the lower one's is, and that one was itself checked when the lower
 * stack ran.
 */
import { environmentBelow, type EnvName, ENVIRONMENTS, isEnvName } from "../environment";
import { isObject } from "../resources";
import { parseSecretFingerprints, type SecretFingerprints } from "../secrets/fingerprints";
import { ruleFor } from "./items";

export const PARITY_BASELINE_KIND = "env-progression/parity-baseline";
export const PARITY_VERSION = 1;

export type ParityEntry = { value: string; display: string } | { unknown: true; display: string };

export interface ParityDocument {
  kind: typeof PARITY_BASELINE_KIND;
  version: typeof PARITY_VERSION;
  environment: EnvName;
  /** id -> entry. An id `prefix:*` with an unknown entry stands for every item of that prefix. */
  items: Record<string, ParityEntry>;
  /** Fingerprints of the secret values (model/secrets/fingerprints.ts); never the values. */
  secrets?: SecretFingerprints;
}

export function isUnknownEntry(
  e: ParityEntry | undefined,
): e is { unknown: true; display: string } {
  return e !== undefined && "unknown" in e;
}

/** JSON with sorted keys: the same data always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * Checks a parity document that came from outside (policy config, a stack output). Problems name
 * the field and what is expected, never a value.
 */
export function parseParityDocument(
  raw: unknown,
  where = "baseline",
): { document?: ParityDocument; errors: string[] } {
  const errors: string[] = [];
  if (!isObject(raw))
    return {
      errors: [`${where} is not a map; expected the parityBaseline output of the stack below`],
    };
  if (raw.kind !== PARITY_BASELINE_KIND)
    errors.push(`${where}.kind is not "${PARITY_BASELINE_KIND}"`);
  if (raw.version !== PARITY_VERSION)
    errors.push(
      `${where}.version is not ${PARITY_VERSION}; produce the baseline with this version of the program`,
    );
  if (typeof raw.environment !== "string" || !isEnvName(raw.environment))
    errors.push(`${where}.environment is not one of ${ENVIRONMENTS.join(", ")}`);
  if (!isObject(raw.items)) errors.push(`${where}.items is not a map of parity items`);
  else {
    for (const [id, e] of Object.entries(raw.items)) {
      const ok =
        isObject(e) &&
        typeof e.display === "string" &&
        (typeof e.value === "string" || e.unknown === true);
      if (!ok) errors.push(`${where}.items["${id}"] is not {value, display}`);
      else if (ruleFor(id) === undefined)
        errors.push(`${where}.items["${id}"] is not a parity item this version knows`);
    }
  }
  if (raw.secrets !== undefined)
    errors.push(...parseSecretFingerprints(raw.secrets, `${where}.secrets`).errors);
  return errors.length > 0 ? { errors } : { document: raw as unknown as ParityDocument, errors };
}

/** Problem with using `baseline` for a stack of environment `current`; undefined when fine. */
export function baselineEnvironmentProblem(
  baseline: ParityDocument,
  current: EnvName,
): string | undefined {
  const below = environmentBelow(current);
  if (below === undefined)
    return `${current} is the lowest environment and has no baseline to compare with`;
  if (baseline.environment !== below) {
    return `the configured baseline is ${baseline.environment}'s, but ${current} is compared with ${below}`;
  }
  return undefined;
}
