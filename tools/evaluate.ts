/**
 * Evaluates the real program (index.ts) for one stack under the Pulumi SDK's in-process engine
 * (`pulumi.runtime.setMocks`), with that stack's real configuration read from Pulumi.yaml and
 * Pulumi.<stack>.yaml as the CLI would pass it. Returns every resource the program registered,
 * with its inputs and the dependencies the SDK sent to the engine. The tests and `verify` use it;
 * nothing is deployed.
 */
import * as pulumi from "@pulumi/pulumi";
import { execSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as path from "node:path";
import { PROJECT } from "../model/config/environmentConfig";
import { REPO_ROOT as ROOT } from "../model/paths";
import { urnName } from "../model/urn";
import { isWireSecret } from "./analyzer/secrets";
import { readStackConfig } from "./stackConfig";

export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** URNs' resource names this resource explicitly depends on (what the engine orders by). */
  dependsOn: string[];
}

export interface Evaluation {
  resources: Registered[];
  outputs: Record<string, unknown>;
  /** Names of outputs the SDK marked secret. */
  secretOutputs: string[];
  /** The error the program threw while loading, if it did. */
  error: Error | undefined;
}

export interface EvaluateOptions {
  /**
   * Plaintext values for the stack's secrets, set as encrypted config (like `config set --secret`).
   * Default: canary values (tests). `verify` passes the decrypted stack secrets here.
   */
  secrets?: Record<string, string>;
  /** Extra or changed config, keyed "namespace:key"; `undefined` removes a key. Objects become JSON. */
  config?: Record<string, unknown>;
  /** Keys to mark secret without changing their value (e.g. to model `config set --secret host`). */
  extraSecretKeys?: string[];
  preview?: boolean;
  /** Run the program as a stack of this name (with the named stack's file). */
  stackName?: string;
}

/** Canary secrets: distinctive strings that must never appear in any output, log or message. */
export function canarySecrets(stack: string): Record<string, string> {
  return {
    "env-progression:dbPassword": `canary-db-${stack}-7f3a9c`,
    "env-progression:smokeToken": `canary-token-${stack}-b41e02`,
  };
}

/** Drops the project's own modules from the require cache so the program runs afresh. */
function forgetProgram(): void {
  for (const key of Object.keys(require.cache)) {
    const own = key.startsWith(ROOT) && !key.includes(`${path.sep}node_modules${path.sep}`);
    const harness = key.includes(`${path.sep}test${path.sep}`) || key.includes(`${path.sep}tools${path.sep}`);
    if (own && !harness) {
      delete require.cache[key];
    }
  }
}

export async function evaluateStack(stack: string, opts: EvaluateOptions = {}): Promise<Evaluation> {
  const cfg = readStackConfig(ROOT, stack);
  const values: Record<string, string> = { ...cfg.values };
  const secretKeys = new Set<string>(opts.extraSecretKeys ?? []);
  for (const [k, v] of Object.entries(opts.secrets ?? canarySecrets(stack))) {
    values[k] = v;
    secretKeys.add(k);
  }
  for (const [k, v] of Object.entries(opts.config ?? {})) {
    if (v === undefined) delete values[k];
    else values[k] = typeof v === "string" ? v : JSON.stringify(v);
  }

  const resources: Registered[] = [];
  const deps = new Map<string, string[]>();
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        const state = { ...args.inputs };
        // The Kubernetes provider auto-names a resource without metadata.name; do the same, from the
        // resource name and its content, so a content change gives a new name as it does for real.
        if (args.type.startsWith("kubernetes:") && state.metadata && !state.metadata.name) {
          const hash = crypto.createHash("sha256").update(JSON.stringify(args.inputs)).digest("hex").slice(0, 8);
          state.metadata = { ...state.metadata, name: `${args.name}-${hash}` };
        }
        // The API server gives a Namespace a random uid that state then keeps; a stack's namespace
        // here keeps one uid across evaluations, as a deployed one does across `up`s.
        if (args.type === "kubernetes:core/v1:Namespace" && state.metadata && !state.metadata.uid) {
          const h = crypto.createHash("sha256").update(`${opts.stackName ?? stack}/${args.name}`).digest("hex");
          const uid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
          state.metadata = { ...state.metadata, uid };
        }
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, dependsOn: [] });
        return { id: `${args.name}-id`, state };
      },
      call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        if (args.token === "command:local:run") {
          // Run the real command, as the command provider would, in the directory it names.
          const out = execSync(String(args.inputs.command), { cwd: String(args.inputs.dir ?? ROOT), encoding: "utf8" });
          return { stdout: out, stderr: "" };
        }
        throw new Error(`unexpected invoke ${args.token}`);
      },
    },
    PROJECT,
    opts.stackName ?? stack,
    opts.preview ?? false,
  );
  // Record the dependencies each registration carries, as the engine receives them.
  const settings = require("@pulumi/pulumi/runtime/settings");
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: { getName(): string; getDependenciesList(): string[] }, cb: unknown) => {
    deps.set(req.getName(), req.getDependenciesList().map(urnName));
    return register(req, cb);
  };
  pulumi.runtime.setAllConfig(values, [...secretKeys]);

  forgetProgram();
  let program: Record<string, unknown> = {};
  let error: Error | undefined;
  try {
    program = require(path.join(ROOT, "index.ts"));
  } catch (err) {
    error = err as Error;
  }
  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  for (const [name, value] of Object.entries(program)) {
    if (pulumi.Output.isInstance(value)) {
      const o = value as pulumi.Output<unknown>;
      // During preview an output computed by a provider (the smoke run's) is unknown, and an
      // apply on it never runs: record it as unknown rather than wait for ever.
      if (!(await (o as unknown as { isKnown: Promise<boolean> }).isKnown)) {
        outputs[name] = UNKNOWN_OUTPUT;
        continue;
      }
      outputs[name] = await promiseOf(o);
      if (await pulumi.isSecret(o)) secretOutputs.push(name);
    } else {
      outputs[name] = value;
    }
  }
  await settings.waitForRPCs();
  for (const r of resources) r.dependsOn = deps.get(r.name) ?? [];
  return { resources, outputs, secretOutputs, error };
}

/** The value inside a secret the SDK sent to the engine; fails if `value` was not sent as a secret. */
export function secretValue(value: unknown): unknown {
  if (!isWireSecret(value)) throw new Error(`expected a secret, got ${JSON.stringify(value)}`);
  return value.value;
}

/** What `outputs` holds for an output whose value is not known until apply (preview). */
export const UNKNOWN_OUTPUT = Symbol("unknown until apply");

/** The value of an Output, without `done` callbacks. */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

export function ofType(ev: Evaluation, type: string): Registered[] {
  return ev.resources.filter((r) => r.type === type);
}

export function one(ev: Evaluation, type: string, nameEndsWith = ""): Registered {
  const found = ofType(ev, type).filter((r) => r.name.endsWith(nameEndsWith));
  if (found.length !== 1) {
    throw new Error(`expected one ${type} named *${nameEndsWith}, found ${found.map((r) => r.name).join(", ") || "none"}`);
  }
  return found[0] as Registered;
}
