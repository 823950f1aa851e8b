/**
 * The report of a run and how it reads: one line per check for a terminal, and the failure message
 * that fails `pulumi up`. Everything a server or an error says passes through `redact` first.
 */
import { smokeFailureLine } from "../model/smoke";
import type { JsonScalar } from "./contract";

export type Outcome = "passed" | "failed" | "cancelled";

export interface CheckResult {
  name: string;
  ok: boolean;
  outcome: Outcome;
  method: string;
  /** The URL of the last request made (after same-origin redirects). */
  url: string;
  /** The last status seen, if a response came back. */
  status?: number;
  /** The last attempt: request sent to body read. */
  latencyMs: number;
  /** HTTP requests made, retries and redirects included. */
  attempts: number;
  expected: string;
  /** What came back, for a check that did not pass. Redacted. */
  got?: string;
  /** Whether the last failure was of the kind retried until the deadline. */
  transient?: boolean;
  /** The checked field's value, for a check that passed with a field. */
  value?: JsonScalar;
}

export interface SmokeReport {
  ok: boolean;
  baseUrl: string;
  expectVersion?: string;
  /** What the version check reported, when it passed. */
  verifiedVersion?: string;
  elapsedMs: number;
  deadlineMs: number;
  /** Whether the deadline ended the run. */
  deadlineReached: boolean;
  results: CheckResult[];
}

export const REDACTED = "[redacted]";

/**
 * Replaces every occurrence of a secret in `text`, as it is and as a server might echo it back
 * (JSON-escaped, URL-encoded).
 */
export function redact(text: string, secrets: readonly string[]): string {
  const forms: string[] = [];
  for (const s of secrets) {
    if (s === "") continue;
    forms.push(s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s));
  }
  forms.sort((a, b) => b.length - a.length);
  let out = text;
  for (const f of forms) {
    if (f !== "") out = out.split(f).join(REDACTED);
  }
  return out;
}

/** A body or message made printable on one line and cut at `max` characters. */
export function snippet(text: string, max = 200): string {
  const flat = text
    .replace(/[\u0000-\u001f\u007f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

function secondsText(value: number): string {
  return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} s`;
}

function retried(r: CheckResult, outer: boolean): string {
  if (r.attempts <= 1) return "";
  return outer ? ` (${r.attempts} attempts)` : `, ${r.attempts} attempts`;
}

/** One terminal line per check. `mark` is the check mark and may be colored by the caller. */
export function formatCheckLine(r: CheckResult, nameWidth: number): string {
  const name = r.name.padEnd(nameWidth);
  const status = r.status === undefined ? "   " : String(r.status);
  if (r.outcome === "passed") {
    const value = r.value === undefined ? "" : `  ${String(r.value)}`;
    return `${name}  ${status}  ${ms(r.latencyMs).padStart(7)}${value}${retried(r, false)}`;
  }
  if (r.outcome === "cancelled")
    return `${name}  ${status}  ${"".padStart(7)}  ${r.got ?? "cancelled"}`;
  return `${name}  ${status}  ${ms(r.latencyMs).padStart(7)}  ${r.method} ${r.url}: got ${r.got ?? "?"}; expected ${r.expected}${retried(r, true)}`;
}

/** The one-line verdict. */
export function formatSummary(report: SmokeReport): string {
  const failed = report.results.filter((r) => r.outcome === "failed").length;
  const total = report.results.length;
  if (report.ok) {
    const version =
      report.verifiedVersion === undefined ? "" : `, version ${report.verifiedVersion}`;
    return `PASS  ${total} of ${total} checks passed in ${secondsText(report.elapsedMs)}${version}`;
  }
  return `FAIL  ${failed} of ${total} checks failed${timing(report)}`;
}

/** ` in 1.2 s`, and the deadline when the run reached it. */
function timing(report: SmokeReport): string {
  const deadline = report.deadlineReached
    ? ` (deadline of ${secondsText(report.deadlineMs)} reached)`
    : "";
  return ` in ${secondsText(report.elapsedMs)}${deadline}`;
}

/**
 * The message a failed run throws from the dynamic provider: model/smoke.ts's line naming the checks
 * that did not pass (promote reads it back), then the failing checks, each with its URL, what came
 * back and what was expected; then the rest in a line each.
 */
export function formatFailure(report: SmokeReport): string {
  const lines = [
    smokeFailureLine(
      {
        baseUrl: report.baseUrl,
        failed: report.results.filter((r) => r.outcome === "failed").map((r) => r.name),
        total: report.results.length,
      },
      timing(report),
    ),
  ];
  const order: Outcome[] = ["failed", "cancelled", "passed"];
  for (const outcome of order) {
    for (const r of report.results.filter((x) => x.outcome === outcome)) {
      if (outcome === "failed") {
        lines.push(`  ✗ ${r.name}: ${r.method} ${r.url}`);
        lines.push(`      got:      ${r.got ?? "?"}`);
        lines.push(`      expected: ${r.expected}`);
        lines.push(
          `      attempts: ${r.attempts}${r.transient === true ? " (retried until the deadline)" : ""}`,
        );
      } else if (outcome === "cancelled") {
        lines.push(`  - ${r.name}: ${r.got ?? "cancelled"}`);
      } else {
        lines.push(`  ✓ ${r.name}: ${r.status ?? ""} in ${ms(r.latencyMs)}`);
      }
    }
  }
  return lines.join("\n");
}
