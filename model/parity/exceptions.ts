/**
 * Accepted differences from the environment below: each names an identical item, says why, and
 * expires. The program (model/config/parse.ts) and the parity policy read the stack config key with
 * this one parser, so both refuse the same entries with the same words.
 */
import { isObject } from "../resources";
import { ITEM_RULES, ruleFor } from "./items";

/** The stack config key (in the program's namespace) that holds parity exceptions. */
export const PARITY_EXCEPTIONS_KEY = "parityExceptions";

export interface ParityException {
  /** An identical item id (`flag:checkout-v2`), or a prefix with `*` (`flag:*`). */
  item: string;
  reason: string;
  /** The last day the exception applies, YYYY-MM-DD (UTC). */
  expires: string;
}

/** Today in UTC, YYYY-MM-DD. */
export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

function isRealDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

export const MIN_REASON_LENGTH = 10;

/**
 * Reads `env-progression:parityExceptions`: a list of `{item, reason, expires}`, as YAML in the
 * stack file (the engine passes it as JSON text) or already parsed. Every problem at once, one
 * line each, naming the entry and the field, never echoing a value.
 */
export function parseParityExceptions(
  raw: unknown,
  where = `env-progression:${PARITY_EXCEPTIONS_KEY}`,
): { exceptions: ParityException[]; errors: string[] } {
  if (raw === undefined || raw === null) return { exceptions: [], errors: [] };
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      return {
        exceptions: [],
        errors: [`${where} is not a list; expected a YAML list of {item, reason, expires}`],
      };
    }
  }
  if (!Array.isArray(value))
    return {
      exceptions: [],
      errors: [`${where} is not a list; expected a YAML list of {item, reason, expires}`],
    };
  const errors: string[] = [];
  const exceptions: ParityException[] = [];
  const seen = new Set<string>();
  value.forEach((e, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(e))
      return void errors.push(`${at} is not a map; expected {item, reason, expires}`);
    const before = errors.length;
    for (const k of Object.keys(e)) {
      if (!["item", "reason", "expires"].includes(k))
        errors.push(`${at}.${k} is not a known field; expected only item, reason and expires`);
    }
    const item = e.item;
    if (typeof item !== "string" || item === "")
      errors.push(
        `${at}.item is missing; expected a parity item such as flag:checkout-v2 or image:app`,
      );
    else {
      const rule = ruleFor(item);
      if (rule === undefined)
        errors.push(
          `${at}.item is not a parity item; expected one of ${ITEM_RULES.filter(
            (r) => r.kind === "identical",
          )
            .map((r) => r.prefix)
            .join(", ")} (with :<name>)`,
        );
      else if (rule.kind === "may-differ")
        errors.push(`${at}.item may differ between environments already and needs no exception`);
      else if (rule.kind === "must-differ")
        errors.push(
          `${at}.item cannot be excepted: a lower environment's secret value is never allowed`,
        );
      else if (seen.has(item))
        errors.push(`${at}.item is listed twice; expected one exception per item`);
      seen.add(String(item));
    }
    if (typeof e.reason !== "string" || e.reason.trim().length < MIN_REASON_LENGTH) {
      errors.push(
        `${at}.reason is missing or too short; expected at least ${MIN_REASON_LENGTH} characters saying why the difference is acceptable`,
      );
    }
    if (typeof e.expires !== "string" || !isRealDate(e.expires))
      errors.push(`${at}.expires is not a real date; expected the last day it applies, YYYY-MM-DD`);
    if (errors.length === before)
      exceptions.push({
        item: item as string,
        reason: (e.reason as string).trim(),
        expires: e.expires as string,
      });
  });
  return { exceptions, errors };
}

/** The exception for an item id: its own, else the first `prefix:*` one that covers it. */
export function exceptionFor(
  id: string,
  exceptions: readonly ParityException[],
): ParityException | undefined {
  return (
    exceptions.find((e) => e.item === id) ??
    exceptions.find((e) => e.item.endsWith("*") && id.startsWith(e.item.slice(0, -1)))
  );
}
