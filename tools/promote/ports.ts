/**
 * The ports of the promotion (./plan.ts): what it asks of the stacks (StackRunner, over the
 * Automation API in ./automation.ts), of the person (Approver) and of the output (Reporter, in
 * ./terminal.ts), and what it returns. Types only, so that tests drive the plan with fakes.
 */
import type { policyPackConfig } from "../../model/baseline";
import type { ExitCode } from "../../model/cli";
import type { EnvName, Release } from "../../model/environment";
import type { Step, StepFailure } from "./failure";

export type PolicyPackConfig = ReturnType<typeof policyPackConfig>;

export interface OperationOptions {
  /** The `--policy-pack-config` document; absent for dev, and for a rollback. */
  policyConfig?: PolicyPackConfig;
}

export type OperationResult = { ok: true; summary: string } | { ok: false; failure: StepFailure };

/** One Pulumi stack per environment, named like the environment. */
export interface StackRunner {
  /** `pulumi preview --policy-pack policies [--policy-pack-config …]`. */
  preview(env: EnvName, opts: OperationOptions): Promise<OperationResult>;
  /** `pulumi up --policy-pack policies [--policy-pack-config …]`. */
  up(env: EnvName, opts: OperationOptions): Promise<OperationResult>;
  /** The stack's outputs as plain values; `{}` for a stack never deployed. */
  outputs(env: EnvName): Promise<Record<string, unknown>>;
  getConfig(env: EnvName, key: string): Promise<string | undefined>;
  setConfig(env: EnvName, key: string, value: string): Promise<void>;
  removeConfig(env: EnvName, key: string): Promise<void>;
}

export interface Approver {
  /** Whether there is someone to ask (a terminal on stdin). */
  readonly interactive: boolean;
  confirm(question: string): Promise<boolean>;
}

export type RollbackOutcome = "started" | "done" | "failed" | "unavailable";

export type PromoteEvent =
  | { kind: "start"; envs: readonly EnvName[]; preview: boolean }
  | { kind: "running"; env: EnvName; step: Step }
  | { kind: "step"; env: EnvName; step: Step; detail: string }
  | { kind: "warning"; env: EnvName; message: string }
  | { kind: "failed"; env: EnvName; step: Step; reason: string }
  | { kind: "rollback"; env: EnvName; outcome: RollbackOutcome; release?: Release; reason?: string }
  | { kind: "progress"; env: EnvName; message: string }
  | { kind: "done"; exitCode: ExitCode; summary: string };

export interface Reporter {
  event(e: PromoteEvent): void;
}

export interface PromoteOptions {
  /** The last environment to deploy (inclusive). */
  to: EnvName;
  /** Preview every stack up to `to`; change nothing. */
  preview: boolean;
  /** Approve prod without asking. */
  yes: boolean;
}

export interface Failure {
  env: EnvName;
  step: Step;
  reason: string;
}

export interface RollbackReport {
  env: EnvName;
  outcome: Exclude<RollbackOutcome, "started">;
  release?: Release;
  reason?: string;
}

export interface PromoteResult {
  exitCode: ExitCode;
  /** Environments deployed and verified (up mode) or previewed cleanly (preview mode). */
  completed: EnvName[];
  failures: Failure[];
  rollback?: RollbackReport;
}

export interface PromoteDeps {
  runner: StackRunner;
  reporter: Reporter;
  approver: Approver;
}
