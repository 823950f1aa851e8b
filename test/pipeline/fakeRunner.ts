/**
 * An in-memory stand-in for the Pulumi stacks, for the promotion logic's tests.
 *
 * Each environment has a stack file (config) and a deployed state (outputs). `up` deploys the
 * release the config names and, unless told to fail, exports what a real stack exports:
 * `release`, `verifiedRelease` (equal, because the smoke tests passed) and a `parityBaseline`.
 * Every call is recorded, in order, so that tests assert on order and on what never happened.
 */
import type { EnvName, Release } from "../../model/environment";
import type { StepFailure } from "../../tools/promote/failure";
import type {
  Approver,
  OperationOptions,
  OperationResult,
  PromoteEvent,
  Reporter,
  StackRunner,
} from "../../tools/promote/ports";
import { CONFIG_KEYS } from "../../tools/promote/release";

export interface Call {
  op: "preview" | "up" | "outputs" | "getConfig" | "setConfig" | "removeConfig";
  env: EnvName;
  opts?: OperationOptions;
  key?: string;
  value?: string;
}

/** Decides whether an operation fails; it sees the release the stack file names at that moment. */
export type FailureRule = (
  env: EnvName,
  release: { image?: string; version?: string },
) => StepFailure | undefined;

export class FakeRunner implements StackRunner {
  readonly calls: Call[] = [];
  readonly config: Record<EnvName, Record<string, string>>;
  readonly state: Record<EnvName, Record<string, unknown>>;
  failPreview: FailureRule = () => undefined;
  failUp: FailureRule = () => undefined;
  /** Throw (as the CLI or backend would) instead of returning, for these operations. */
  throwOn: Partial<Record<Call["op"], Error>> = {};
  /** Leave `verifiedRelease` out of the outputs after a successful up. */
  omitVerified = false;

  constructor(
    config: Record<EnvName, Record<string, string>>,
    state: Partial<Record<EnvName, Record<string, unknown>>> = {},
  ) {
    this.config = structuredClone(config);
    this.state = { dev: {}, staging: {}, prod: {}, ...structuredClone(state) };
  }

  private record(call: Call): void {
    this.calls.push(call);
    const error = this.throwOn[call.op];
    if (error) throw error;
  }

  private named(env: EnvName): { image?: string; version?: string } {
    return {
      image: this.config[env][CONFIG_KEYS.image],
      version: this.config[env][CONFIG_KEYS.version],
    };
  }

  async preview(env: EnvName, opts: OperationOptions): Promise<OperationResult> {
    this.record({ op: "preview", env, opts });
    const failure = this.failPreview(env, this.named(env));
    return failure ? { ok: false, failure } : { ok: true, summary: "1 to update" };
  }

  async up(env: EnvName, opts: OperationOptions): Promise<OperationResult> {
    this.record({ op: "up", env, opts });
    const named = this.named(env);
    const failure = this.failUp(env, named);
    if (failure) return { ok: false, failure };
    const release: Release = {
      version: named.version ?? "?",
      image: named.image ?? "?",
      commit: "c0ffee",
    };
    this.state[env] = {
      release,
      ...(this.omitVerified ? {} : { verifiedRelease: release }),
      parityBaseline: { from: env, image: release.image },
      namespace: env,
      url: `http://${env}.example.test`,
    };
    return { ok: true, summary: "1 updated" };
  }

  async outputs(env: EnvName): Promise<Record<string, unknown>> {
    this.record({ op: "outputs", env });
    return structuredClone(this.state[env]);
  }

  async getConfig(env: EnvName, key: string): Promise<string | undefined> {
    this.record({ op: "getConfig", env, key });
    return this.config[env][key];
  }

  async setConfig(env: EnvName, key: string, value: string): Promise<void> {
    this.record({ op: "setConfig", env, key, value });
    this.config[env][key] = value;
  }

  async removeConfig(env: EnvName, key: string): Promise<void> {
    this.record({ op: "removeConfig", env, key });
    delete this.config[env][key];
  }

  /** The engine operations only (preview/up), as `op env` strings, in order. */
  operations(): string[] {
    return this.calls
      .filter((c) => c.op === "preview" || c.op === "up")
      .map((c) => `${c.op} ${c.env}`);
  }

  callsFor(env: EnvName): Call[] {
    return this.calls.filter((c) => c.env === env);
  }
}

export class RecordingReporter implements Reporter {
  readonly events: PromoteEvent[] = [];
  event(e: PromoteEvent): void {
    this.events.push(e);
  }
  of<K extends PromoteEvent["kind"]>(kind: K): Extract<PromoteEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<PromoteEvent, { kind: K }> => e.kind === kind);
  }
}

export class ScriptedApprover implements Approver {
  readonly questions: string[] = [];
  constructor(
    readonly interactive: boolean,
    private readonly answer: boolean = false,
  ) {}
  async confirm(question: string): Promise<boolean> {
    this.questions.push(question);
    return this.answer;
  }
}

const digest = (n: string) => `ghcr.io/acme/app@sha256:${n.repeat(64).slice(0, 64)}`;

/** Stack files as the project commits them: dev on a tag, staging and prod on digests. */
export function stackFiles(): Record<EnvName, Record<string, string>> {
  return {
    dev: { [CONFIG_KEYS.image]: "ghcr.io/acme/app:1.3.0", [CONFIG_KEYS.version]: "1.3.0" },
    staging: { [CONFIG_KEYS.image]: digest("b"), [CONFIG_KEYS.version]: "1.3.0" },
    prod: { [CONFIG_KEYS.image]: digest("a"), [CONFIG_KEYS.version]: "1.2.0" },
  };
}

export const STAGING_IMAGE = digest("b");
export const PROD_IMAGE = digest("a");

/** What each stack verified on its last successful up, before this run: release 1.2.0. */
export function deployedState(): Record<EnvName, Record<string, unknown>> {
  const state = {} as Record<EnvName, Record<string, unknown>>;
  for (const env of ["dev", "staging", "prod"] as const) {
    const image = env === "dev" ? "ghcr.io/acme/app:1.2.0" : PROD_IMAGE;
    const release: Release = { version: "1.2.0", image, commit: "0ld" };
    state[env] = { release, verifiedRelease: release, parityBaseline: { from: env, image } };
  }
  return state;
}
