/**
 * What verify found: the report's shape (printed as JSON for machines; ./text.ts for a terminal,
 * ./markdown.ts for a PR comment) and the summaries both print. Nothing here ever holds a secret value: violations are the pack's messages (which
 * never carry values), the parity matrix shows display strings of non-secret items and counts of
 * fingerprints, and secrets appear only as key names and states.
 */
import { stripVTControlCharacters } from "node:util";
import { EXIT } from "../../model/cli";
import type { EnvName } from "../../model/environment";
import { urnName, urnType } from "../../model/urn";
import type { EnforcementLevel } from "../analyzer";
import type { IsolationResult, ParityMatrix } from "./matrix";
import type { SecretStatus } from "./stacks";

export interface Violation {
  stack: EnvName;
  policy: string;
  level: EnforcementLevel;
  /** The URN the diagnostic is about. */
  urn: string;
  /** type::name, short. */
  resource: string;
  message: string;
}

export interface StackReport {
  stack: EnvName;
  resources: number;
  comparedWith?: { environment: EnvName; baseline: string };
  secrets: SecretStatus[];
  violations: Violation[];
}

export interface VerifyReport {
  ok: boolean;
  exitCode: typeof EXIT.ok | typeof EXIT.failed;
  environments: EnvName[];
  stacks: StackReport[];
  violations: Violation[];
  parity: ParityMatrix;
  isolation: {
    environments: string[];
    cells: { from: string; to: string; allowed: boolean; reason: string }[];
    external: { from: string; ip: string; allowed: boolean; reason: string }[];
    leaks: IsolationResult["leaks"];
    brokenInside: string[];
  };
  skippedSecretChecks: string[];
  durationMs: number;
}

export function shortResource(urn: string): string {
  if (!urn.startsWith("urn:")) return urn;
  const type = urnType(urn);
  const kind = type.slice(type.lastIndexOf(":") + 1);
  return `${kind} ${urnName(urn)}`.trim();
}

export function isolationData(r: IsolationResult): VerifyReport["isolation"] {
  return {
    environments: r.matrix.envs,
    cells: r.matrix.cells.map((c) => ({
      from: c.from,
      to: c.to,
      allowed: c.verdict.allowed,
      reason: c.verdict.reason,
    })),
    external: r.matrix.external.map((e) => ({
      from: e.env,
      ip: r.matrix.externalIp,
      allowed: e.verdict.allowed,
      reason: e.verdict.reason,
    })),
    leaks: r.leaks,
    brokenInside: r.brokenInside,
  };
}

/** "dbPassword (dev, staging, prod): not committed to the stack files; stand-in values were used". */
export function skippedSecretChecks(stacks: readonly StackReport[]): string[] {
  const byKey = new Map<string, { envs: string[]; why: Set<string> }>();
  for (const s of stacks) {
    for (const st of s.secrets) {
      if (st.state !== "stand-in") continue;
      const e = byKey.get(st.key) ?? { envs: [], why: new Set<string>() };
      e.envs.push(s.stack);
      e.why.add(
        st.why
          .replace(/Pulumi\.[a-z]+\.yaml/, "the stack file")
          .replace(
            /PULUMI_CONFIG_PASSPHRASE_(?!FILE\b)[A-Z0-9_]+/g,
            "PULUMI_CONFIG_PASSPHRASE_<ENV>",
          ),
      );
      byKey.set(st.key, e);
    }
  }
  return [...byKey].map(
    ([key, e]) =>
      `${key} (${e.envs.join(", ")}): ${[...e.why].join("; ")}; stand-in values were used, so whether a lower environment's ${key} is reused was NOT checked`,
  );
}

/**
 * Why the secret-reuse checks did not run, short, for the first line of a report: undefined when
 * every secret was real (decrypted, or absent and optional).
 */
export function secretReuseCaveat(r: VerifyReport): string | undefined {
  // From skippedSecretChecks, which covers every evaluated stack (those below a --stack too).
  if (r.skippedSecretChecks.length === 0) return undefined;
  const causes = new Set<string>();
  for (const k of r.skippedSecretChecks) {
    const before = causes.size;
    if (/: not committed to /.test(k)) causes.add("no secret committed");
    if (/: no passphrase/.test(k)) causes.add("no passphrase");
    if (/incorrect passphrase/.test(k)) causes.add("wrong passphrase");
    if (causes.size === before) causes.add("cannot decrypt");
  }
  return `secret reuse not checked (${[...causes].join(", ")})`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** "1 mandatory policy violation and 1 isolation leak": what makes the exit code 1. */
export function failureSummary(r: VerifyReport): string {
  const mandatory = r.violations.filter((v) => v.level === "mandatory").length;
  const parts: string[] = [];
  if (mandatory > 0) parts.push(plural(mandatory, "mandatory policy violation"));
  if (r.isolation.leaks.length > 0) parts.push(plural(r.isolation.leaks.length, "isolation leak"));
  return parts.join(" and ");
}

// ---------------------------------------------------------------------------------------------
// When verify could not run (EXIT.usage or EXIT.internal): the problems, also on stdout for --json and --markdown,
// so that a PR comment says what went wrong instead of being empty.

export interface VerifyFailure {
  ok: false;
  exitCode: typeof EXIT.usage | typeof EXIT.internal;
  problems: string[];
}

/**
 * The useful lines of an error message for a report: no terminal escapes (a child's coloured
 * stderr), no stack frames, no dump of the error's properties that follows them, no blank lines;
 * at most `max` lines.
 */
export function failureLines(message: string, max = 20): string[] {
  const out: string[] = [];
  let inDump = false;
  for (const raw of stripVTControlCharacters(message).split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (inDump) {
      if (line === "}") inDump = false;
      continue;
    }
    if (/^\s+at /.test(line)) {
      // Node prints an error's own properties after its last frame: "    at f (file:1:2) {".
      if (line.endsWith("{")) inDump = true;
      continue;
    }
    if (line.trim() === "") continue;
    out.push(line);
  }
  if (out.length > max) return [...out.slice(0, max - 1), `… ${out.length - max + 1} more lines`];
  return out;
}

/** `s` cut to `n` characters, an ellipsis marking the cut. */
export function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.max(0, n - 1))}…`;
}
