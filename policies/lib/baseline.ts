/**
 * The baseline of the environment below, as a policy reads it from its config, parsed once per
 * config object (the engine configures the pack once per run).
 */
import { type EnvName, ENVIRONMENTS } from "../../model/environment";
import {
  baselineEnvironmentProblem,
  type ParityDocument,
  parseParityDocument,
} from "../../model/parity/document";
import { FingerprintMatcher } from "../../model/secrets/fingerprints";

export interface BaselineState {
  /** The document, when present and valid for `current`. */
  document?: ParityDocument;
  /** Why it cannot be used: missing, invalid (field by field), or another environment's. */
  problems: string[];
  missing: boolean;
}

const parsed = new WeakMap<object, { document?: ParityDocument; errors: string[] }>();
const matchers = new WeakMap<ParityDocument, FingerprintMatcher>();

export function readBaseline(config: { baseline?: unknown }, current: EnvName): BaselineState {
  const raw = config.baseline;
  if (raw === undefined || raw === null) return { problems: [], missing: true };
  let p = typeof raw === "object" ? parsed.get(raw) : undefined;
  if (p === undefined) {
    p = parseParityDocument(raw, "baseline");
    if (typeof raw === "object") parsed.set(raw, p);
  }
  if (p.document === undefined) return { problems: p.errors, missing: false };
  const envProblem = baselineEnvironmentProblem(p.document, current);
  if (envProblem !== undefined) return { problems: [envProblem], missing: false };
  return { document: p.document, problems: [], missing: false };
}

/** One matcher per baseline: each value is fingerprinted once per pack process. */
export function matcherFor(doc: ParityDocument): FingerprintMatcher | undefined {
  if (doc.secrets === undefined) return undefined;
  let m = matchers.get(doc);
  if (m === undefined) {
    m = new FingerprintMatcher(doc.secrets);
    matchers.set(doc, m);
  }
  return m;
}

export interface LowerDocuments {
  /** Every usable baseline of a lower environment: the one below first, then older ones. */
  documents: ParityDocument[];
  problems: string[];
}

/**
 * Every lower environment's baseline a secret policy compares with: `baseline` (the environment
 * below) and `lowerBaselines` (the ones further down; a value of dev must not reach prod either).
 */
export function readLowerBaselines(
  config: { baseline?: unknown; lowerBaselines?: unknown },
  current: EnvName,
): LowerDocuments {
  const documents: ParityDocument[] = [];
  const problems: string[] = [];
  const below = readBaseline(config, current);
  if (below.document) documents.push(below.document);
  problems.push(...below.problems);
  const older = config.lowerBaselines;
  if (older !== undefined && older !== null) {
    if (!Array.isArray(older)) problems.push("lowerBaselines is not a list of parity baselines");
    else {
      older.forEach((raw, i) => {
        let p = raw !== null && typeof raw === "object" ? parsed.get(raw as object) : undefined;
        if (p === undefined) {
          p = parseParityDocument(raw, `lowerBaselines[${i}]`);
          if (raw !== null && typeof raw === "object") parsed.set(raw as object, p);
        }
        if (p.document === undefined) return void problems.push(...p.errors);
        if (ENVIRONMENTS.indexOf(p.document.environment) >= ENVIRONMENTS.indexOf(current)) {
          return void problems.push(
            `lowerBaselines[${i}] is ${p.document.environment}'s, which is not below ${current}`,
          );
        }
        documents.push(p.document);
      });
    }
  }
  return { documents, problems };
}

/**
 * The environment a policy config was made for: the one above its baseline's. A pack process the
 * engine started knows its stack (PULUMI_STACK); one that serves several stacks (verify) does not.
 */
export function environmentAboveBaseline(config: { baseline?: unknown }): EnvName | undefined {
  const raw = config.baseline;
  if (raw === undefined || raw === null || typeof raw !== "object") return undefined;
  let p = parsed.get(raw);
  if (p === undefined) {
    p = parseParityDocument(raw, "baseline");
    parsed.set(raw, p);
  }
  const env = p.document?.environment;
  return env === undefined ? undefined : ENVIRONMENTS[ENVIRONMENTS.indexOf(env) + 1];
}
