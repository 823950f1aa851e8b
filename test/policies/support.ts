/**
 * The policy pack, driven as the engine drives it: real stacks evaluated by the SDK's in-process
 * engine, their registrations sent over the Analyzer gRPC protocol to the pack running as its own
 * process. One pack process per stack context is started once and reused (each case re-sends
 * ConfigureStack and Configure, as a new engine run would).
 */
import { ENVIRONMENTS, type EnvName } from "../../model/environment";
import type { ParityDocument } from "../../model/parity/document";
import { newFingerprintParams } from "../../model/secrets/fingerprints";
import {
  type AnalyzerResourceInput,
  type Diagnostic,
  EngineServer,
  type PolicyPackProcess,
} from "../../tools/analyzer";
import { canarySecrets } from "../../tools/evaluate";
import { analyzeRun, packConfig, stackContext, startPack } from "../../tools/verify/pack";
import { runStack, type RunOptions, type StackRun } from "../../tools/verify/stacks";

/** Fixed fingerprint parameters, so that baselines are reproducible within a test run. */
export const FINGERPRINT = newFingerprintParams(Buffer.alloc(16, 7));

export const ALL_CANARIES: string[] = ENVIRONMENTS.flatMap((e) => Object.values(canarySecrets(e)));

/** Every text a run produced that a user could see: diagnostics and the pack's output. */
export const seenTexts: string[] = [];

const baselines = new Map<EnvName, Promise<StackRun>>();

/** The real stack evaluated with its canary secrets: the source of the baselines. */
export function realRun(stack: EnvName): Promise<StackRun> {
  let run = baselines.get(stack);
  if (run === undefined) {
    run = runStack(stack, { secrets: canarySecrets(stack), fingerprint: FINGERPRINT });
    baselines.set(stack, run);
  }
  return run;
}

/** The policy config the engine would get for `stack`: the baseline below, and older ones. */
export async function realPackConfig(stack: EnvName): Promise<Record<string, unknown>> {
  const i = ENVIRONMENTS.indexOf(stack);
  if (i === 0) return {};
  const below = (await realRun(ENVIRONMENTS[i - 1] as EnvName)).baseline;
  const older: ParityDocument[] = [];
  for (let j = i - 2; j >= 0; j--) older.push((await realRun(ENVIRONMENTS[j] as EnvName)).baseline);
  return packConfig(below, older);
}

let engine = new EngineServer();
const packs = new Map<string, Promise<PolicyPackProcess>>();

/** A pack process for the stack, its environment carrying `config` as PULUMI_CONFIG does. */
export function packFor(
  run: StackRun,
  configOverride?: Record<string, string>,
): Promise<PolicyPackProcess> {
  const ctx = { ...run, plainConfig: configOverride ?? run.plainConfig };
  const key = `${run.stack}:${JSON.stringify(ctx.plainConfig)}`;
  let p = packs.get(key);
  if (p === undefined) {
    p = (async () => {
      await engine.start();
      return startPack(ctx, {}, { engine });
    })();
    packs.set(key, p);
  }
  return p;
}

export async function closeAll(): Promise<void> {
  for (const p of packs.values()) await (await p).close();
  packs.clear();
  await engine.close();
  // A shut-down server cannot listen again; the next suite of the same mocha run gets its own.
  engine = new EngineServer();
}

export interface Case extends RunOptions {
  stack: EnvName;
  /** Changes to the registrations before they are sent (a "changed resource"). */
  mutate?: (run: StackRun) => void;
  /** Policy config; default: the real lower stacks' baselines. */
  policyConfig?: Record<string, unknown>;
  /** PULUMI_CONFIG for the pack process; default: the run's config. */
  packEnvConfig?: Record<string, string>;
}

export interface CaseResult {
  run: StackRun;
  diagnostics: Diagnostic[];
  mandatory: Diagnostic[];
  /** Names of policies with a mandatory diagnostic. */
  failed: string[];
}

export async function analyzeCase(c: Case): Promise<CaseResult> {
  const { stack, mutate, policyConfig, packEnvConfig, preview, ...opts } = c;
  // Values unknown during a preview are put in by `mutate`: tools/evaluate.ts cannot evaluate with
  // preview: true since the program exports an output the smoke test computes (its apply never
  // runs in a preview, so the export never resolves). The pack is told it runs a preview.
  const run = await runStack(stack, {
    secrets: canarySecrets(stack),
    fingerprint: FINGERPRINT,
    ...opts,
  });
  mutate?.(run);
  const pack = await packFor(run, packEnvConfig);
  await pack.configureStack(
    stackContext({ ...run, plainConfig: packEnvConfig ?? run.plainConfig }, preview ?? true),
  );
  await pack.configure(policyConfig ?? (await realPackConfig(stack)));
  const diagnostics = await analyzeRun(pack, run);
  for (const d of diagnostics) seenTexts.push(d.message, d.description);
  seenTexts.push(...pack.output());
  const mandatory = diagnostics.filter((d) => d.enforcementLevel === "mandatory");
  return {
    run,
    diagnostics,
    mandatory,
    failed: [...new Set(mandatory.map((d) => d.policyName))].sort(),
  };
}

/** Both views of the named resource (inputs for Analyze, outputs for AnalyzeStack). */
export function views(run: StackRun, nameSuffix: string): AnalyzerResourceInput[] {
  const found = [...run.view.analyze, ...run.view.analyzeStack].filter((r) =>
    r.name.endsWith(nameSuffix),
  );
  if (found.length === 0) throw new Error(`no resource *${nameSuffix} in ${run.stack}`);
  return found;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** Changes the named resource in both views. */
export function change(run: StackRun, nameSuffix: string, fn: (props: any) => void): void {
  for (const r of views(run, nameSuffix)) fn(r.properties);
}

/** Removes the named resource from both views. */
export function remove(run: StackRun, nameSuffix: string): void {
  run.view.analyze = run.view.analyze.filter((r) => !r.name.endsWith(nameSuffix));
  run.view.analyzeStack = run.view.analyzeStack.filter((r) => !r.name.endsWith(nameSuffix));
}

/** Adds a resource (a copy of a template's options and provider) to both views. */
export function add(
  run: StackRun,
  like: string,
  type: string,
  name: string,
  properties: Record<string, unknown>,
): void {
  const template = views(run, like)[0] as AnalyzerResourceInput;
  const urn = `urn:pulumi:${run.stack}::env-progression::${type}::${name}`;
  const r: AnalyzerResourceInput = { ...template, urn, type, name, properties };
  run.view.analyze.push(r);
  run.view.analyzeStack.push({ ...r, properties: JSON.parse(JSON.stringify(properties)) });
}

export const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
