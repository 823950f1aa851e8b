/**
 * The promotion: dev → staging → prod, one `pulumi up` per stack, each gated by the one before.
 *
 * Pure logic over injected ports, so that order, gating, approval and rollback are tested without
 * the Pulumi CLI or a cluster (test/pipeline/plan.test.ts). The Automation API adapter is
 * ./automation.ts; the terminal ports and the CLI are ./terminal.ts and ../promote.ts; the release
 * a stack file names, pinned and put back, is ./stackRelease.ts.
 *
 * Per environment, in order:
 *   baseline   read the stack below's `parityBaseline` output → the policy pack's config
 *   promotion  prod only: pin prod's image (and version) to staging's `verifiedRelease`
 *   preview    `pulumi preview --policy-pack policies` with that config (a policy violation fails
 *              here, before anything changes)
 *   approval   prod only: a prompt, or --yes
 *   up         `pulumi up --policy-pack policies`; the smoke resource runs inside it
 *   outputs    the stack must now export a `verifiedRelease` equal to its `release`
 * A smoke failure rolls the environment back to the `verifiedRelease` it exported before this run.
 */
import { policyPackConfig } from "../../model/baseline";
import { EXIT, type ExitCode } from "../../model/cli";
import {
  ENVIRONMENTS,
  OUTPUTS,
  environmentBelow,
  type EnvName,
  type Release,
} from "../../model/environment";
import type { Step } from "./failure";
import type {
  Failure,
  OperationOptions,
  PolicyPackConfig,
  PromoteDeps,
  PromoteEvent,
  PromoteOptions,
  PromoteResult,
  RollbackReport,
} from "./ports";
import { describeRelease, parseRelease } from "./release";
import { pinRelease, restoreRelease, withRelease, type Pinned } from "./stackRelease";
import { summarize } from "./summary";

/** The environment that needs an explicit approval, and deploys what the one below verified. */
const GATED_ENV: EnvName = "prod";

/** The environments a run covers: from the first up to `to`. */
export function environmentsUpTo(to: EnvName): EnvName[] {
  return ENVIRONMENTS.slice(0, ENVIRONMENTS.indexOf(to) + 1);
}

export async function promote(options: PromoteOptions, deps: PromoteDeps): Promise<PromoteResult> {
  return new Promotion(options, deps).run();
}

/** Thrown inside a run to stop it; carries what to report. */
class Stop extends Error {
  constructor(
    readonly failure: Failure,
    readonly exitCode: ExitCode = EXIT.failed,
  ) {
    super(failure.reason);
  }
}

class Promotion {
  private readonly envs: EnvName[];
  private readonly completed: EnvName[] = [];
  private readonly failures: Failure[] = [];
  private rollback?: RollbackReport;
  /** Each deployed stack's outputs as they were before this run changed it. */
  private readonly beforeRun = new Map<EnvName, Record<string, unknown>>();

  constructor(
    private readonly options: PromoteOptions,
    private readonly deps: PromoteDeps,
  ) {
    this.envs = environmentsUpTo(options.to);
  }

  private emit(e: PromoteEvent): void {
    this.deps.reporter.event(e);
  }

  async run(): Promise<PromoteResult> {
    const { preview, yes } = this.options;
    this.emit({ kind: "start", envs: this.envs, preview });

    // Refuse before touching anything, not after dev and staging were already deployed.
    if (!preview && this.envs.includes(GATED_ENV) && !yes && !this.deps.approver.interactive) {
      const failure: Failure = {
        env: GATED_ENV,
        step: "approval",
        reason: `${GATED_ENV} needs an approval: no terminal to ask on and --yes was not given; nothing was deployed`,
      };
      this.emit({ kind: "failed", ...failure });
      return this.finish(EXIT.notApproved, [failure]);
    }

    for (const env of this.envs) {
      try {
        if (preview) await this.previewOnly(env);
        else await this.deploy(env);
      } catch (err) {
        const stop = err instanceof Stop ? err : undefined;
        if (!stop) throw err;
        this.failures.push(stop.failure);
        if (!preview || stop.exitCode !== EXIT.failed) return this.finish(stop.exitCode);
        // A preview changes nothing, so one stack's failure does not stop the others' previews.
      }
    }
    return this.finish(this.failures.length > 0 ? EXIT.failed : EXIT.ok);
  }

  private finish(exitCode: ExitCode, failures: Failure[] = this.failures): PromoteResult {
    const result: PromoteResult = {
      exitCode,
      completed: [...this.completed],
      failures: [...failures],
      ...(this.rollback ? { rollback: this.rollback } : {}),
    };
    this.emit({
      kind: "done",
      exitCode,
      summary: summarize(this.envs, this.options.preview, result),
    });
    return result;
  }

  /** Run one step and report that it runs. */
  private async step<T>(env: EnvName, step: Step, body: () => Promise<T>): Promise<T> {
    this.emit({ kind: "running", env, step });
    return this.guard(env, step, body);
  }

  /** Turn an unexpected exception (the CLI, the backend) into a failure of the step it came from. */
  private async guard<T>(env: EnvName, step: Step, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      if (err instanceof Stop) throw err;
      throw this.fail(env, step, err instanceof Error ? err.message : String(err));
    }
  }

  private fail(env: EnvName, step: Step, reason: string, exitCode: ExitCode = EXIT.failed): Stop {
    this.emit({ kind: "failed", env, step, reason });
    return new Stop({ env, step, reason }, exitCode);
  }

  private ok(env: EnvName, step: Step, detail: string): void {
    this.emit({ kind: "step", env, step, detail });
  }

  /** The policy config from the stack below's baseline, or undefined for the first stack. */
  private async baseline(env: EnvName): Promise<PolicyPackConfig | undefined> {
    const below = environmentBelow(env);
    if (!below) return undefined;
    return this.guard(env, "baseline", async () => {
      const baseline = (await this.deps.runner.outputs(below))[OUTPUTS.parityBaseline];
      if (baseline === undefined) {
        const why = `${below} exports no ${OUTPUTS.parityBaseline} (was it ever deployed?)`;
        if (!this.options.preview)
          throw this.fail(env, "baseline", `${why}; deploy ${below} first`);
        this.emit({
          kind: "warning",
          env,
          message: `${why}: previewing ${env} with no parity baseline to compare with`,
        });
        return undefined;
      }
      this.ok(env, "baseline", `compared with ${below}'s ${OUTPUTS.parityBaseline}`);
      return policyPackConfig(baseline, await this.olderBaselines(below));
    });
  }

  /**
   * The baselines of the environments below `below` (for prod: dev's), so that the secret policy
   * refuses a value from two environments down too: prod reusing dev's password while staging has
   * its own would otherwise pass.
   */
  private async olderBaselines(below: EnvName): Promise<unknown[]> {
    const older: unknown[] = [];
    for (const e of ENVIRONMENTS.slice(0, ENVIRONMENTS.indexOf(below))) {
      const b = (await this.deps.runner.outputs(e))[OUTPUTS.parityBaseline];
      if (b !== undefined) older.push(b);
    }
    return older;
  }

  /**
   * A preview changes nothing. Prod is previewed as a deploy would run it, with the release staging
   * verified (its stack file is put back afterwards): previewed with its own file's image, every
   * prod preview after a release would fail parity against staging's newer one.
   */
  private async previewOnly(env: EnvName): Promise<void> {
    const policyConfig = await this.baseline(env);
    const pinned = env === GATED_ENV ? await this.pinForPreview(env) : undefined;
    try {
      await this.previewStack(env, policyConfig);
    } finally {
      if (pinned) await restoreRelease(this.deps.runner, env, pinned.snapshot);
    }
    this.completed.push(env);
  }

  /** pinToVerifiedBelow for a preview: without a verified release below, a warning, not a stop. */
  private async pinForPreview(env: EnvName): Promise<Pinned | undefined> {
    const below = environmentBelow(env)!;
    const verified = await this.guard(env, "promotion", async () =>
      parseRelease((await this.deps.runner.outputs(below))[OUTPUTS.verifiedRelease]),
    );
    if (!verified) {
      this.emit({
        kind: "warning",
        env,
        message: `${below} exports no ${OUTPUTS.verifiedRelease} (was it ever deployed?): previewing ${env} with the image in its own stack file`,
      });
      return undefined;
    }
    return this.pinToVerifiedBelow(env);
  }

  private async deploy(env: EnvName): Promise<void> {
    const { runner } = this.deps;
    const policyConfig = await this.baseline(env);
    const before = await this.guard(env, "outputs", () => runner.outputs(env));
    this.beforeRun.set(env, before);
    const lastVerified = parseRelease(before[OUTPUTS.verifiedRelease]);

    let pinned: Pinned | undefined;
    if (env === GATED_ENV) pinned = await this.pinToVerifiedBelow(env);

    try {
      await this.previewStack(env, policyConfig);
      if (env === GATED_ENV) await this.approve(env, pinned?.release);
    } catch (err) {
      // Nothing was deployed: leave prod's stack file as it was.
      if (pinned) await restoreRelease(this.deps.runner, env, pinned.snapshot);
      throw err;
    }

    const up = await this.step(env, "up", () =>
      runner.up(env, policyConfig ? { policyConfig } : {}),
    );
    if (!up.ok) {
      const { step, reason } = up.failure;
      const stop = this.fail(env, step, reason);
      if (step === "smoke") await this.rollBack(env, lastVerified, pinned);
      throw stop;
    }
    this.ok(env, "up", up.summary);
    await this.checkVerified(env, pinned?.release);
    this.completed.push(env);
  }

  /** Preview with the policies; fails with the step the runner names (preview or policy). */
  private async previewStack(
    env: EnvName,
    policyConfig: PolicyPackConfig | undefined,
  ): Promise<void> {
    const result = await this.step(env, "preview", () =>
      this.deps.runner.preview(env, policyConfig ? { policyConfig } : {}),
    );
    if (!result.ok) throw this.fail(env, result.failure.step, result.failure.reason);
    this.ok(env, "preview", result.summary);
  }

  /** Prod deploys exactly the release staging verified, not what prod's stack file says. */
  private async pinToVerifiedBelow(env: EnvName): Promise<Pinned> {
    const below = environmentBelow(env)!;
    const { runner } = this.deps;
    return this.guard(env, "promotion", async () => {
      const verified = parseRelease((await runner.outputs(below))[OUTPUTS.verifiedRelease]);
      if (!verified) {
        throw this.fail(
          env,
          "promotion",
          `${below} exports no ${OUTPUTS.verifiedRelease}: nothing verified to promote`,
        );
      }
      const pinned = await pinRelease(runner, env, verified);
      const doing = this.options.preview ? "previewing" : "deploying";
      this.ok(env, "promotion", `${doing} ${describeRelease(verified)}, as verified in ${below}`);
      return pinned;
    });
  }

  private async approve(env: EnvName, release: Release | undefined): Promise<void> {
    if (this.options.yes) {
      this.ok(env, "approval", "approved with --yes");
      return;
    }
    const what = release ? ` ${describeRelease(release)}` : "";
    this.emit({ kind: "running", env, step: "approval" });
    const approved = await this.deps.approver.confirm(`Deploy${what} to ${env}?`);
    if (!approved) {
      throw this.fail(
        env,
        "approval",
        `${env} was not approved; nothing was deployed to ${env}`,
        EXIT.notApproved,
      );
    }
    this.ok(env, "approval", "approved at the prompt");
  }

  /** After a successful up, the smoke tests must have verified what was deployed. */
  private async checkVerified(env: EnvName, pinned: Release | undefined): Promise<void> {
    const after = await this.guard(env, "outputs", () => this.deps.runner.outputs(env));
    const verified = parseRelease(after[OUTPUTS.verifiedRelease]);
    const release = parseRelease(after[OUTPUTS.release]);
    if (!verified) {
      throw this.fail(
        env,
        "outputs",
        `${env} exports no ${OUTPUTS.verifiedRelease} after a successful up`,
      );
    }
    if (release && (release.image !== verified.image || release.version !== verified.version)) {
      throw this.fail(
        env,
        "outputs",
        `${env} runs ${describeRelease(release)} but its smoke tests verified ${describeRelease(verified)}`,
      );
    }
    if (pinned && verified.image !== pinned.image) {
      throw this.fail(
        env,
        "outputs",
        `${env} verified ${verified.image}, not the promoted ${pinned.image}`,
      );
    }
    this.ok(env, "smoke", `verified ${describeRelease(verified)}`);
  }

  /**
   * Redeploy the release the environment's smoke tests last verified. Only the release (image and
   * version) goes back; the program is the one being deployed. The stack file is then restored to
   * what it held before this run: for dev and staging it still names the failed release, so the
   * next run fails the same way until someone fixes it, rather than silently keeping the old one.
   */
  private async rollBack(
    env: EnvName,
    target: Release | undefined,
    pinned?: Pinned,
  ): Promise<void> {
    const { runner } = this.deps;
    if (!target) {
      const reason = `${env} exported no ${OUTPUTS.verifiedRelease} before this run: nothing to roll back to, ${env} keeps the failed release`;
      this.emit({ kind: "rollback", env, outcome: "unavailable", reason });
      this.rollback = { env, outcome: "unavailable", reason };
      return;
    }
    this.emit({ kind: "rollback", env, outcome: "started", release: target });
    let outcome: RollbackReport;
    try {
      const result = await withRelease(runner, env, target, pinned?.snapshot, async () =>
        runner.up(env, await this.rollbackOptions(env)),
      );
      outcome = result.ok
        ? { env, outcome: "done", release: target }
        : {
            env,
            outcome: "failed",
            release: target,
            reason: `${result.failure.step}: ${result.failure.reason}`,
          };
    } catch (err) {
      outcome = {
        env,
        outcome: "failed",
        release: target,
        reason: err instanceof Error ? err.message : String(err),
      };
    }
    this.emit({ kind: "rollback", ...outcome });
    this.rollback = outcome;
  }

  /**
   * The policy config of a rollback: the baseline the stack below exported before this run, not
   * its current one. The release being restored was verified against the stack below as it was;
   * compared with what the stack below runs now (the newer release), parity would refuse it.
   */
  private async rollbackOptions(env: EnvName): Promise<OperationOptions> {
    const below = environmentBelow(env);
    if (!below) return {};
    const baseline =
      this.beforeRun.get(below)?.[OUTPUTS.parityBaseline] ??
      (await this.deps.runner.outputs(below))[OUTPUTS.parityBaseline];
    return baseline === undefined
      ? {}
      : { policyConfig: policyPackConfig(baseline, await this.olderBaselines(below)) };
  }
}
