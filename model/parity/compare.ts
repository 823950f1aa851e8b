/**
 * How two sides of parity compare, item by item, under the exceptions a stack's config allows: the
 * verdicts the parity policy enforces and `verify` prints.
 */
import type { EnvName } from "../environment";
import { parseImageRef } from "../image";
import { sameFingerprintParams, type SecretFingerprints } from "../secrets/fingerprints";
import { isUnknownEntry, type ParityDocument, type ParityEntry } from "./document";
import { exceptionFor, type ParityException, todayUtc } from "./exceptions";
import { type ItemKind, itemLabel, itemOrder, itemReason, ruleFor } from "./items";

export type ParityStatus = "equal" | "allowed" | "forbidden" | "unknown";

export interface ParityComparison {
  id: string;
  label: string;
  kind: ItemKind;
  status: ParityStatus;
  /** Why allowed or forbidden, in words; never a value. */
  reason?: string;
  lower?: ParityEntry;
  current?: ParityEntry;
  /** The exception that made it allowed, or that expired. */
  exception?: ParityException & { expired: boolean };
}

export interface ParityResult {
  lower: EnvName;
  current: EnvName;
  items: ParityComparison[];
  /** Exceptions that matched no forbidden difference. */
  unusedExceptions: ParityException[];
}

function lookup(doc: ParityDocument, id: string): ParityEntry | undefined {
  const direct = doc.items[id];
  if (direct !== undefined) return direct;
  const colon = id.indexOf(":");
  return colon < 0 ? undefined : doc.items[`${id.slice(0, colon)}:*`];
}

function imageComparison(
  lower: EnvName,
  current: EnvName,
  l: string,
  c: string,
): { status: ParityStatus; reason: string } {
  const li = parseImageRef(l);
  const ci = parseImageRef(c);
  if (ci.digest === undefined) {
    return {
      status: "forbidden",
      reason: `${current} does not pin the image by digest, so it cannot be shown to be ${lower}'s`,
    };
  }
  if (li.repository !== ci.repository)
    return {
      status: "forbidden",
      reason: `${current} runs an image from another repository than ${lower}`,
    };
  if (li.digest !== undefined)
    return { status: "forbidden", reason: `${current} runs another digest than ${lower}` };
  if (lower !== "dev")
    return {
      status: "forbidden",
      reason: `${lower} does not pin the image by digest, so ${current} cannot prove it runs the same`,
    };
  if (li.tag !== undefined && ci.tag !== undefined && li.tag !== ci.tag) {
    return { status: "forbidden", reason: `${current} runs another tag than dev` };
  }
  return {
    status: "allowed",
    reason: `dev may use a tag; the repository${ci.tag !== undefined ? " and tag" : ""} match and ${current} pins the digest`,
  };
}

/**
 * Compares the current side with the lower one, item by item. Unknown values are never a
 * difference (they are compared at `pulumi up`). Exceptions apply to identical items until the end
 * of their expiry day (UTC); an expired one no longer does, and says so.
 */
export function compareParity(
  lower: ParityDocument,
  current: ParityDocument,
  exceptions: readonly ParityException[] = [],
  today: string = todayUtc(),
): ParityResult {
  const ids = new Set(
    [...Object.keys(lower.items), ...Object.keys(current.items)].filter((id) => !id.endsWith(":*")),
  );
  const used = new Set<ParityException>();
  const items: ParityComparison[] = [];
  for (const id of [...ids].sort((a, b) => itemOrder(a) - itemOrder(b) || a.localeCompare(b))) {
    const rule = ruleFor(id);
    const kind = rule?.kind ?? "identical";
    const l = lookup(lower, id);
    const c = lookup(current, id);
    const base: ParityComparison = {
      id,
      label: itemLabel(id),
      kind,
      status: "equal",
      ...(l ? { lower: l } : {}),
      ...(c ? { current: c } : {}),
    };
    if (isUnknownEntry(l) || isUnknownEntry(c)) {
      items.push({
        ...base,
        status: "unknown",
        reason: "unknown until apply; compared at pulumi up",
      });
      continue;
    }
    if (l !== undefined && c !== undefined && l.value === c.value) {
      items.push(base);
      continue;
    }
    if (kind === "may-differ") {
      items.push({ ...base, status: "allowed", reason: rule?.reason ?? "may differ" });
      continue;
    }
    let verdict: { status: ParityStatus; reason: string };
    if (id.startsWith("image:") && l !== undefined && c !== undefined) {
      verdict = imageComparison(
        lower.environment,
        current.environment,
        JSON.parse(l.value) as string,
        JSON.parse(c.value) as string,
      );
    } else if (l === undefined)
      verdict = {
        status: "forbidden",
        reason: `${current.environment} has it and ${lower.environment} does not`,
      };
    else if (c === undefined)
      verdict = {
        status: "forbidden",
        reason: `${lower.environment} has it and ${current.environment} does not`,
      };
    else
      verdict = {
        status: "forbidden",
        reason: `it differs between ${lower.environment} and ${current.environment}`,
      };
    if (verdict.status === "forbidden") {
      const ex = exceptionFor(id, exceptions);
      if (ex !== undefined) {
        used.add(ex);
        const expired = today > ex.expires;
        if (!expired) {
          items.push({
            ...base,
            status: "allowed",
            reason: `exception until ${ex.expires}: ${ex.reason}`,
            exception: { ...ex, expired },
          });
          continue;
        }
        items.push({
          ...base,
          status: "forbidden",
          reason: `${verdict.reason}; its exception expired after ${ex.expires}`,
          exception: { ...ex, expired },
        });
        continue;
      }
    }
    items.push({ ...base, ...verdict });
  }
  if (lower.secrets !== undefined && current.secrets !== undefined)
    items.push(compareSecrets(lower, current));
  return {
    lower: lower.environment,
    current: current.environment,
    items,
    unusedExceptions: exceptions.filter((e) => !used.has(e)),
  };
}

/** The secretValues row: forbidden when a current value has a lower fingerprint (same parameters). */
export function compareSecrets(lower: ParityDocument, current: ParityDocument): ParityComparison {
  const base = {
    id: "secretValues",
    label: itemLabel("secretValues"),
    kind: "must-differ" as const,
  };
  const ls = lower.secrets as SecretFingerprints;
  const cs = current.secrets as SecretFingerprints;
  const count = (s: SecretFingerprints) => `${s.values.length} fingerprinted`;
  const lowerEntry: ParityEntry = { value: "fingerprints", display: count(ls) };
  const currentEntry: ParityEntry = { value: "fingerprints", display: count(cs) };
  if (!sameFingerprintParams(ls.params, cs.params)) {
    return {
      ...base,
      status: "unknown",
      reason: "fingerprinted with other parameters; not comparable",
      lower: lowerEntry,
      current: currentEntry,
    };
  }
  const lowerSet = new Map(ls.values.map((v) => [v.fingerprint, v.source]));
  const reused = cs.values.filter((v) => lowerSet.has(v.fingerprint));
  if (reused.length === 0) {
    return {
      ...base,
      status: "allowed",
      reason: itemReason("secretValues") as string,
      lower: lowerEntry,
      current: currentEntry,
    };
  }
  const what = reused
    .map((v) => `${v.source} reuses ${lower.environment}'s ${lowerSet.get(v.fingerprint)}`)
    .join("; ");
  return { ...base, status: "forbidden", reason: what, lower: lowerEntry, current: currentEntry };
}
