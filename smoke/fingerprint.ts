/**
 * What the dynamic resource keeps in its state so that `diff` can tell when the checks must run
 * again, without keeping what it must not: the CA bundle is reduced to a digest, and secret header
 * values to an HMAC under a random per-run salt (a value cannot be read back from it, and two
 * stacks with the same token do not show the same fingerprint).
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import type { CheckSpec } from "./contract";

/** Plain JSON with object keys sorted, so that equal settings always hash alike. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((v) => stableJson(v === undefined ? null : v)).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export interface CheckSettings {
  checks: CheckSpec[];
  requestTimeoutMs: number;
  deadlineMs: number;
  caPem?: string;
  headerNames: string[];
}

/** A digest of everything that decides how the checks run, apart from the target and release. */
export function settingsFingerprint(s: CheckSettings): string {
  const normalized = {
    checks: s.checks,
    requestTimeoutMs: s.requestTimeoutMs,
    deadlineMs: s.deadlineMs,
    ca: s.caPem === undefined ? null : createHash("sha256").update(s.caPem).digest("hex"),
    headerNames: s.headerNames.map((n) => n.toLowerCase()).sort(),
  };
  return `sha256:${createHash("sha256").update(stableJson(normalized)).digest("hex")}`;
}

export function newSalt(): string {
  return randomBytes(16).toString("hex");
}

/** An HMAC of the header names and values under `salt`. */
export function headersFingerprint(salt: string, headers: Record<string, string>): string {
  const pairs = Object.entries(headers)
    .map(([name, value]) => [name.toLowerCase(), value])
    .sort(([a], [b]) => ((a ?? "") < (b ?? "") ? -1 : 1));
  return `hmac-sha256:${createHmac("sha256", salt).update(stableJson(pairs)).digest("hex")}`;
}
