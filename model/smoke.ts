/**
 * What a failed smoke run tells the tools, written once: the type tokens of the smoke resources
 * (how promote knows that a failure is the smoke step's) and the first line of the run's error
 * (which checks failed, against what). The dynamic provider can only fail `pulumi up` with a
 * message, so that line is the structured result: smoke/report.ts writes it with
 * `smokeFailureLine`, promote reads it back with `readSmokeFailure`, and a test holds the two
 * together.
 *
 * smoke/ loads this file with Node's type stripping (smoke/bin.mjs) and Pulumi serializes it into
 * the smoke provider, so it holds only erasable syntax and imports nothing.
 */

/** The component's type token; every resource it owns carries it in its URN's type chain. */
export const SMOKE_COMPONENT_TYPE = "env-progression:smoke:SmokeTest";
/** The dynamic resource's module and type (`pulumi.dynamic.Resource`'s last two arguments). */
export const SMOKE_RUN = { module: "env-progression", type: "SmokeRun" } as const;
/** The token the SDK makes of them: `pulumi-nodejs:dynamic/<module>:<type>`. */
export const SMOKE_RUN_TYPE = `pulumi-nodejs:dynamic/${SMOKE_RUN.module}:${SMOKE_RUN.type}`;

/** Whether a URN's type chain (`a$b$c`, before the `::name`) holds one of the smoke types. */
export function isSmokeTypeChain(typeChain: string): boolean {
  return typeChain.split("$").some((t) => t === SMOKE_COMPONENT_TYPE || t === SMOKE_RUN_TYPE);
}

/** A failed run, as its error's first line carries it. */
export interface SmokeFailure {
  baseUrl: string;
  /** The names of the checks that failed, in the order they ran (not those cancelled after). */
  failed: readonly string[];
  /** How many checks ran (or were cancelled at the deadline). */
  total: number;
}

const LEAD = "smoke tests failed against ";

/**
 * `smoke tests failed against <baseUrl>: 1 of 4 checks failed (critical-action)`, then `rest`
 * (how long it took, the deadline). Check names are words (smoke/plan.ts checks them), so the list
 * reads back unambiguously.
 */
export function smokeFailureLine(f: SmokeFailure, rest = ""): string {
  return `${LEAD}${f.baseUrl}: ${counted(f)}${rest}`;
}

/** `1 of 4 checks failed (critical-action)`; no list when none failed (a run cancelled early). */
function counted(f: SmokeFailure): string {
  const names = f.failed.length > 0 ? ` (${f.failed.join(", ")})` : "";
  return `${f.failed.length} of ${f.total} checks failed${names}`;
}

const LINE = /smoke tests failed against (\S+): (\d+) of (\d+) checks failed(?: \(([^)]*)\))?/;

/** The failure that `smokeFailureLine` wrote anywhere in `text`, or undefined if there is none. */
export function readSmokeFailure(text: string): SmokeFailure | undefined {
  const m = LINE.exec(text);
  if (m === null) return undefined;
  const failed = (m[4] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (failed.length !== Number(m[2])) return undefined;
  return { baseUrl: m[1] as string, failed, total: Number(m[3]) };
}

/** The reason promote prints for a failed run: what failed, and where. */
export function describeSmokeFailure(f: SmokeFailure): string {
  return `${counted(f)} against ${f.baseUrl}`;
}
