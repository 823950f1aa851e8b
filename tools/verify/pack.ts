/**
 * Runs the policy pack over one evaluated stack, as the engine would during `pulumi preview` or
 * `up`: Analyze for every registration, AnalyzeStack at the end, with the baselines of the stacks
 * below as policy config.
 */
import { policyPackConfig } from "../../model/baseline";
import type { ParityDocument } from "../../model/parity/document";
import { PROJECT } from "../../model/config/environmentConfig";
import { POLICY } from "../../model/policyNames";
import {
  type Diagnostic,
  type EngineServer,
  type PolicyPackConfigFile,
  PolicyPackProcess,
  type StackContext,
} from "../analyzer";
import type { StackRun } from "./stacks";

/**
 * The policy config of a stack: the baseline of the stack below (model/baseline.ts), the older
 * ones for the secret policy, and, when one pack serves several stacks, the stack's exceptions.
 */
export function packConfig(
  below: ParityDocument | undefined,
  older: readonly ParityDocument[] = [],
  exceptions?: unknown,
): PolicyPackConfigFile {
  if (below === undefined) return {};
  const config = policyPackConfig(below, older);
  const parity = config[POLICY.enforceEnvironmentParity];
  if (parity !== undefined && exceptions !== undefined) parity.exceptions = exceptions;
  return config;
}

/** The context ConfigureStack and the pack's environment carry, for a stack. */
export function stackContext(
  run: {
    stack: string;
    plainConfig: Record<string, string>;
    secretKeys: string[];
    tags: Record<string, string>;
  },
  dryRun = true,
): StackContext {
  return {
    stack: run.stack,
    project: PROJECT,
    dryRun,
    // The engine passes decrypted secrets here too; verify passes none: the pack reads no secret config.
    config: run.plainConfig,
    configSecretKeys: run.secretKeys,
    tags: run.tags,
  };
}

export interface PackFinding extends Diagnostic {
  /** The resource the engine analyzed (Analyze), or "" for AnalyzeStack without a URN. */
  analyzed: string;
  phase: "Analyze" | "AnalyzeStack";
}

/** Analyze every registration, then AnalyzeStack; every diagnostic, in that order. */
export async function analyzeRun(pack: PolicyPackProcess, run: StackRun): Promise<PackFinding[]> {
  const out: PackFinding[] = [];
  const results = await Promise.all(
    run.view.analyze.map((r) => pack.analyze(r).then((res) => ({ r, res }))),
  );
  for (const { r, res } of results)
    for (const d of res.diagnostics)
      out.push({ ...d, urn: d.urn || r.urn, analyzed: r.urn, phase: "Analyze" });
  const stack = await pack.analyzeStack(run.view.analyzeStack);
  for (const d of stack.diagnostics) out.push({ ...d, analyzed: d.urn, phase: "AnalyzeStack" });
  return out;
}

/**
 * Starts a pack process for a stack (the process environment is per stack, as in the engine).
 * `typeCheck: false` runs it prebuilt as JavaScript, without TypeScript's type check
 * (tools/build/pack.ts, tools/packHost.cjs), as verify does; the default is the engine's own host.
 */
export function startPack(
  run: {
    stack: string;
    plainConfig: Record<string, string>;
    secretKeys: string[];
    tags: Record<string, string>;
  },
  config: PolicyPackConfigFile,
  opts: { engine?: EngineServer; typeCheck?: boolean } = {},
): Promise<PolicyPackProcess> {
  return PolicyPackProcess.start(
    { ...stackContext(run), policyConfig: config, typeCheck: opts.typeCheck ?? true },
    opts.engine,
  );
}
