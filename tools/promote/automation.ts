/**
 * The StackRunner over the Pulumi Automation API: one `LocalWorkspace` stack per environment, the
 * project's own program (Pulumi.yaml at the repository root) and backend (PULUMI_BACKEND_URL, else
 * Pulumi.yaml's), the local policy pack, and the policy config written to a temp file per
 * operation.
 *
 * What it asks of the CLI (commands, flags, the policy config file, each stack's variables) and how
 * it reads the answers (engine events, outputs, config) are tested against a recording stand-in
 * `pulumi`: test/pipeline/automation.test.ts. Against the real CLI and a cluster it runs only where
 * they exist: test/e2e/promote.test.ts and the e2e workflow. What it decides (what failed, in which
 * step) is in ./failure.ts.
 */
import {
  LocalWorkspace,
  type EngineEvent,
  type OpMap,
  type Stack,
} from "@pulumi/pulumi/automation";
import { ENVIRONMENTS, type EnvName } from "../../model/environment";
import { urnName } from "../../model/urn";
import { classifyFailure, cleanMessage, lastErrorLine } from "./failure";
import type { OperationOptions, OperationResult, StackRunner } from "./ports";
import { writePolicyConfigFile } from "./policy-config";
import { envSuffix, stackVariables, type Environ } from "./setup";

export interface AutomationRunnerOptions {
  /** The project directory: Pulumi.yaml and the Pulumi.<env>.yaml stack files. */
  workDir: string;
  /** The policy pack directory (`policies/`), absolute. */
  policyPack: string;
  environ?: Environ;
  /** Resource-level progress while an operation runs. */
  onProgress?: (env: EnvName, message: string) => void;
}

export class AutomationRunner implements StackRunner {
  private readonly stacks = new Map<EnvName, Stack>();

  constructor(private readonly options: AutomationRunnerOptions) {}

  private async stack(env: EnvName): Promise<Stack> {
    const cached = this.stacks.get(env);
    if (cached) return cached;
    const { workDir, environ } = this.options;
    // createOrSelect: a first run on a new backend creates the stacks from their stack files.
    let stack: Stack;
    try {
      stack = await LocalWorkspace.createOrSelectStack(
        { stackName: env, workDir },
        { workDir, envVars: cliVariables(env, environ ?? process.env) },
      );
    } catch (err) {
      // The Automation API's CommandError dumps code, stdout, stderr and the error again: keep
      // the CLI's own `error:` line.
      const text = err instanceof Error ? err.message : String(err);
      throw new Error(`pulumi stack select ${env} failed: ${lastErrorLine(text)}`);
    }
    this.stacks.set(env, stack);
    return stack;
  }

  preview(env: EnvName, opts: OperationOptions): Promise<OperationResult> {
    return this.operation(env, "preview", opts);
  }

  up(env: EnvName, opts: OperationOptions): Promise<OperationResult> {
    return this.operation(env, "up", opts);
  }

  private async operation(
    env: EnvName,
    kind: "preview" | "up",
    opts: OperationOptions,
  ): Promise<OperationResult> {
    const stack = await this.stack(env);
    const events: EngineEvent[] = [];
    const configFile = opts.policyConfig
      ? await writePolicyConfigFile(opts.policyConfig, env)
      : undefined;
    const common = {
      policyPacks: [this.options.policyPack],
      ...(configFile ? { policyPackConfigs: [configFile.path] } : {}),
      color: "never" as const,
      onEvent: (event: EngineEvent) => {
        events.push(event);
        const line = progressLine(event);
        if (line) this.options.onProgress?.(env, line);
      },
    };
    try {
      if (kind === "preview") {
        const result = await stack.preview(common);
        return { ok: true, summary: describeChanges(result.changeSummary, "preview") };
      }
      const result = await stack.up(common);
      return { ok: true, summary: describeChanges(result.summary.resourceChanges ?? {}, "up") };
    } catch (err) {
      return { ok: false, failure: classifyFailure(kind, events, err) };
    } finally {
      await configFile?.remove();
    }
  }

  async outputs(env: EnvName): Promise<Record<string, unknown>> {
    const outputs = await (await this.stack(env)).outputs();
    return Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, output.value]));
  }

  async getConfig(env: EnvName, key: string): Promise<string | undefined> {
    try {
      return (await (await this.stack(env)).getConfig(key)).value;
    } catch (err) {
      // The CLI's words for an unset key; any other error (a backend's "not found") is one.
      if (err instanceof Error && /configuration key '[^']*' not found/.test(err.message))
        return undefined;
      throw err;
    }
  }

  async setConfig(env: EnvName, key: string, value: string): Promise<void> {
    await (await this.stack(env)).setConfig(key, { value, secret: false });
  }

  async removeConfig(env: EnvName, key: string): Promise<void> {
    await (await this.stack(env)).removeConfig(key);
  }
}

/**
 * The variables of one stack's pulumi processes, on top of this process's, which they inherit
 * whole (execa's extendEnv) and pass on to the stack's program and its providers: blank every
 * stack's `PULUMI_CONFIG_PASSPHRASE_<ENV>` and `KUBECONFIG_<ENV>` found there, so that dev's
 * program never holds prod's passphrase. The stack's own are already in `stackVariables`.
 */
function cliVariables(env: EnvName, environ: Environ): Record<string, string> {
  const hidden: Record<string, string> = {};
  for (const other of ENVIRONMENTS) {
    for (const name of [
      `PULUMI_CONFIG_PASSPHRASE_${envSuffix(other)}`,
      `KUBECONFIG_${envSuffix(other)}`,
    ]) {
      if (process.env[name] !== undefined) hidden[name] = "";
    }
  }
  return { ...hidden, ...stackVariables(env, environ) };
}

const PREVIEW_WORDS: Partial<Record<keyof OpMap, string>> = {
  create: "to create",
  update: "to update",
  replace: "to replace",
  delete: "to delete",
};
const UP_WORDS: Partial<Record<keyof OpMap, string>> = {
  create: "created",
  update: "updated",
  replace: "replaced",
  delete: "deleted",
};

/** "2 to create, 1 to update, 9 unchanged" (preview) or "2 created, …" (up). */
export function describeChanges(changes: OpMap, kind: "preview" | "up"): string {
  const words = kind === "preview" ? PREVIEW_WORDS : UP_WORDS;
  const parts: string[] = [];
  for (const [op, count] of Object.entries(changes) as [keyof OpMap, number | undefined][]) {
    if (!count || op === "same") continue;
    parts.push(`${count} ${words[op] ?? op}`);
  }
  if (changes.same) parts.push(`${changes.same} unchanged`);
  return parts.length > 0 ? parts.join(", ") : "no changes";
}

/** A line for a finished resource step or an advisory policy finding; nothing for the rest. */
export function progressLine(event: EngineEvent): string | undefined {
  const done = event.resOutputsEvent?.metadata;
  if (done && done.op !== "same" && done.type !== "pulumi:pulumi:Stack") {
    return `${done.op} ${done.type} ${urnName(done.urn)}`;
  }
  const policy = event.policyEvent;
  if (policy && policy.enforcementLevel !== "mandatory") {
    const where = policy.resourceUrn ? ` (${urnName(policy.resourceUrn)})` : "";
    return `policy warning ${policy.policyName}${where}: ${cleanMessage(policy.message)}`;
  }
  return undefined;
}
