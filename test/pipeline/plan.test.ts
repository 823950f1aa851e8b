import assert from "node:assert/strict";
import { policyPackConfig } from "../../model/baseline";
import type { EnvName } from "../../model/environment";
import { EXIT } from "../../model/cli";
import { promote } from "../../tools/promote/plan";
import type { PromoteOptions } from "../../tools/promote/ports";
import { CONFIG_KEYS } from "../../tools/promote/release";
import {
  FakeRunner,
  PROD_IMAGE,
  RecordingReporter,
  STAGING_IMAGE,
  ScriptedApprover,
  deployedState,
  stackFiles,
} from "./fakeRunner";

const smokeFails = {
  step: "smoke",
  reason: "smoke tests failed: version: GET /api/version returned 1.2.0, expected 1.3.0",
} as const;

function setup(state: Partial<ReturnType<typeof deployedState>> = deployedState()) {
  const runner = new FakeRunner(stackFiles(), state);
  const reporter = new RecordingReporter();
  return { runner, reporter };
}

async function run(
  runner: FakeRunner,
  reporter: RecordingReporter,
  options: Partial<PromoteOptions> = {},
  approver = new ScriptedApprover(false),
) {
  return promote(
    { to: "prod", preview: false, yes: true, ...options },
    { runner, reporter, approver },
  );
}

describe("promote: order", () => {
  it("previews then deploys dev, staging, prod, in that order", async () => {
    const { runner, reporter } = setup();
    const result = await run(runner, reporter);
    assert.equal(result.exitCode, EXIT.ok);
    assert.deepEqual(result.completed, ["dev", "staging", "prod"]);
    assert.deepEqual(runner.operations(), [
      "preview dev",
      "up dev",
      "preview staging",
      "up staging",
      "preview prod",
      "up prod",
    ]);
    assert.deepEqual(result.failures, []);
  });

  it("--to staging stops after staging and never touches prod", async () => {
    const { runner, reporter } = setup();
    // No terminal and no --yes: fine, because prod is not part of this run.
    const result = await run(runner, reporter, { to: "staging", yes: false });
    assert.equal(result.exitCode, EXIT.ok);
    assert.deepEqual(result.completed, ["dev", "staging"]);
    assert.deepEqual(runner.callsFor("prod"), []);
  });

  it("--to dev deploys dev only", async () => {
    const { runner, reporter } = setup();
    const result = await run(runner, reporter, { to: "dev" });
    assert.deepEqual(runner.operations(), ["preview dev", "up dev"]);
    assert.equal(result.exitCode, EXIT.ok);
  });

  it("reports progress for each stack as it goes", async () => {
    const { runner, reporter } = setup();
    await run(runner, reporter);
    const steps = reporter.of("step").map((e) => `${e.env}:${e.step}`);
    assert.deepEqual(steps, [
      "dev:preview",
      "dev:up",
      "dev:smoke",
      "staging:baseline",
      "staging:preview",
      "staging:up",
      "staging:smoke",
      "prod:baseline",
      "prod:promotion",
      "prod:preview",
      "prod:approval",
      "prod:up",
      "prod:smoke",
    ]);
    assert.equal(reporter.events[0]?.kind, "start");
    assert.equal(reporter.events.at(-1)?.kind, "done");
  });
});

describe("promote: policy baselines", () => {
  it("gives each stack the policy config built from the parityBaseline of the stack below", async () => {
    const { runner, reporter } = setup();
    await run(runner, reporter);
    const ops = runner.calls.filter((c) => c.op === "preview" || c.op === "up");
    for (const call of ops.filter((c) => c.env === "dev")) assert.deepEqual(call.opts, {});
    // Staging runs after dev's up in this run, so it is compared with what dev now runs.
    for (const call of ops.filter((c) => c.env === "staging")) {
      assert.deepEqual(
        call.opts?.policyConfig,
        policyPackConfig({ from: "dev", image: "ghcr.io/acme/app:1.3.0" }),
      );
    }
    // Prod is compared with staging, and its secrets also with dev's (two environments down).
    for (const call of ops.filter((c) => c.env === "prod")) {
      assert.deepEqual(
        call.opts?.policyConfig,
        policyPackConfig({ from: "staging", image: STAGING_IMAGE }, [
          { from: "dev", image: "ghcr.io/acme/app:1.3.0" },
        ]),
      );
    }
  });

  it("refuses to deploy a stack whose lower stack exports no baseline", async () => {
    const { runner, reporter } = setup();
    // dev deploys, but exports no baseline: staging must not deploy without one.
    const originalUp = runner.up.bind(runner);
    runner.up = async (env, opts) => {
      const res = await originalUp(env, opts);
      if (env === "dev") delete runner.state.dev.parityBaseline;
      return res;
    };
    const result = await run(runner, reporter);
    assert.equal(result.exitCode, EXIT.failed);
    assert.deepEqual(result.failures, [
      {
        env: "staging",
        step: "baseline",
        reason: "dev exports no parityBaseline (was it ever deployed?); deploy dev first",
      },
    ]);
    assert.deepEqual(runner.operations(), ["preview dev", "up dev"]);
  });
});

describe("promote: stops at the first failure", () => {
  it("a policy violation in staging's preview stops the run before staging or prod change", async () => {
    const { runner, reporter } = setup();
    runner.failPreview = (env) =>
      env === "staging"
        ? { step: "policy", reason: "enforce-environment-parity: flag checkout differs from dev" }
        : undefined;
    const result = await run(runner, reporter);
    assert.equal(result.exitCode, EXIT.failed);
    assert.deepEqual(result.failures, [
      {
        env: "staging",
        step: "policy",
        reason: "enforce-environment-parity: flag checkout differs from dev",
      },
    ]);
    assert.deepEqual(runner.operations(), ["preview dev", "up dev", "preview staging"]);
    assert.deepEqual(runner.callsFor("prod"), []);
    const failed = reporter.of("failed");
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.env, "staging");
    assert.equal(failed[0]?.step, "policy");
    const done = reporter.of("done")[0];
    assert.match(done?.summary ?? "", /stopped at staging \(policy\): enforce-environment-parity/);
    assert.match(done?.summary ?? "", /deployed: dev/);
    assert.match(done?.summary ?? "", /not touched: prod/);
  });

  it("an up failure that is not a smoke failure stops the run and rolls nothing back", async () => {
    const { runner, reporter } = setup();
    runner.failUp = (env) =>
      env === "dev"
        ? { step: "up", reason: "dev-app: deployment did not become ready" }
        : undefined;
    const result = await run(runner, reporter);
    assert.equal(result.exitCode, EXIT.failed);
    assert.deepEqual(result.failures, [
      { env: "dev", step: "up", reason: "dev-app: deployment did not become ready" },
    ]);
    assert.equal(result.rollback, undefined);
    assert.deepEqual(runner.operations(), ["preview dev", "up dev"]);
    assert.deepEqual(reporter.of("rollback"), []);
  });

  it("names the step when the backend throws instead of returning", async () => {
    const { runner, reporter } = setup();
    runner.throwOn.outputs = new Error(
      "error: could not read the stack's state: permission denied",
    );
    const result = await run(runner, reporter, { to: "staging" });
    assert.equal(result.exitCode, EXIT.failed);
    assert.equal(result.failures[0]?.step, "outputs");
    assert.equal(result.failures[0]?.env, "dev");
    assert.match(result.failures[0]?.reason ?? "", /permission denied/);
  });

  it("fails when the smoke tests did not verify what up deployed", async () => {
    const { runner, reporter } = setup();
    runner.omitVerified = true;
    const result = await run(runner, reporter);
    assert.equal(result.exitCode, EXIT.failed);
    assert.deepEqual(result.failures[0], {
      env: "dev",
      step: "outputs",
      reason: "dev exports no verifiedRelease after a successful up",
    });
    assert.deepEqual(
      runner.callsFor("staging").filter((c) => c.op !== "outputs"),
      [],
    );
  });
});

describe("promote: rollback on a smoke failure", () => {
  it("redeploys the release the environment last verified, reports both, exits non-zero", async () => {
    const { runner, reporter } = setup();
    // The new release (1.3.0) fails staging's smoke tests; the old one (1.2.0) passes.
    runner.failUp = (env, named) =>
      env === "staging" && named.version === "1.3.0" ? smokeFails : undefined;
    const result = await run(runner, reporter);

    assert.equal(result.exitCode, EXIT.failed);
    assert.deepEqual(result.failures, [{ env: "staging", ...smokeFails }]);
    assert.deepEqual(runner.operations(), [
      "preview dev",
      "up dev",
      "preview staging",
      "up staging",
      "up staging",
    ]);

    const stagingCalls = runner.callsFor("staging");
    const ups = stagingCalls.filter((c) => c.op === "up");
    // The rollback is compared with dev as it was before this run (1.2.0), not with dev's new
    // release: that is what staging's old release was verified against.
    assert.deepEqual(ups[1]?.opts, {
      policyConfig: policyPackConfig(deployedState().dev.parityBaseline),
    });
    assert.deepEqual(ups[0]?.opts, {
      policyConfig: policyPackConfig({ from: "dev", image: "ghcr.io/acme/app:1.3.0" }),
    });
    const sets = stagingCalls.filter((c) => c.op === "setConfig").map((c) => `${c.key}=${c.value}`);
    assert.deepEqual(sets.slice(0, 2), [
      `${CONFIG_KEYS.image}=${PROD_IMAGE}`,
      `${CONFIG_KEYS.version}=1.2.0`,
    ]);
    // The rollback happened between those sets and the restore of the stack file.
    const rollbackUpAt = stagingCalls.indexOf(ups[1]!);
    const firstSetAt = stagingCalls.findIndex((c) => c.op === "setConfig");
    assert.ok(firstSetAt < rollbackUpAt);

    // The stack now runs the verified release; its stack file still names the failed one.
    assert.deepEqual(runner.state.staging.verifiedRelease, {
      version: "1.2.0",
      image: PROD_IMAGE,
      commit: "c0ffee",
    });
    assert.equal(runner.config.staging[CONFIG_KEYS.image], STAGING_IMAGE);
    assert.equal(runner.config.staging[CONFIG_KEYS.version], "1.3.0");

    assert.deepEqual(result.rollback, {
      env: "staging",
      outcome: "done",
      release: { version: "1.2.0", image: PROD_IMAGE, commit: "0ld" },
    });
    assert.deepEqual(
      reporter.of("rollback").map((e) => e.outcome),
      ["started", "done"],
    );
    assert.deepEqual(runner.callsFor("prod"), []);
    const summary = reporter.of("done")[0]?.summary ?? "";
    assert.match(summary, /stopped at staging \(smoke\): smoke tests failed/);
    assert.match(summary, /staging rolled back to 1\.2\.0/);
  });

  it("says so when there is no verified release to roll back to, and does not redeploy", async () => {
    const { runner, reporter } = setup({});
    runner.failUp = (env) => (env === "dev" ? smokeFails : undefined);
    const result = await run(runner, reporter);
    assert.equal(result.exitCode, EXIT.failed);
    assert.deepEqual(runner.operations(), ["preview dev", "up dev"]);
    assert.equal(result.rollback?.outcome, "unavailable");
    assert.match(result.rollback?.reason ?? "", /dev exported no verifiedRelease before this run/);
    const events = reporter.of("rollback");
    assert.deepEqual(
      events.map((e) => e.outcome),
      ["unavailable"],
    );
    assert.match(reporter.of("done")[0]?.summary ?? "", /dev was not rolled back/);
  });

  it("reports a rollback that fails too", async () => {
    const { runner, reporter } = setup();
    runner.failUp = (env, named) =>
      env === "dev"
        ? named.version === "1.3.0"
          ? smokeFails
          : {
              step: "smoke",
              reason: "smoke tests failed: database: /api/db-status connected=false",
            }
        : undefined;
    const result = await run(runner, reporter);
    assert.equal(result.exitCode, EXIT.failed);
    assert.equal(result.rollback?.outcome, "failed");
    assert.match(result.rollback?.reason ?? "", /^smoke: smoke tests failed: database/);
    assert.deepEqual(
      reporter.of("rollback").map((e) => e.outcome),
      ["started", "failed"],
    );
    assert.match(reporter.of("done")[0]?.summary ?? "", /rollback of dev FAILED/);
    // The stack file is restored even though the rollback failed.
    assert.equal(runner.config.dev[CONFIG_KEYS.version], "1.3.0");
  });

  it("reports a rollback whose up throws", async () => {
    const { runner, reporter } = setup();
    let ups = 0;
    const originalUp = runner.up.bind(runner);
    runner.up = async (env, opts) => {
      ups += 1;
      if (ups === 2) throw new Error("error: the stack is locked by another update");
      return originalUp(env, opts);
    };
    runner.failUp = (env) => (env === "dev" ? smokeFails : undefined);
    const result = await run(runner, reporter);
    assert.equal(result.rollback?.outcome, "failed");
    assert.match(result.rollback?.reason ?? "", /locked/);
    assert.equal(runner.config.dev[CONFIG_KEYS.image], "ghcr.io/acme/app:1.3.0");
  });

  it("rolls prod back to prod's own verified release and restores prod's stack file", async () => {
    const { runner, reporter } = setup();
    runner.failUp = (env, named) =>
      env === "prod" && named.image === STAGING_IMAGE ? smokeFails : undefined;
    const result = await run(runner, reporter);
    assert.equal(result.exitCode, EXIT.failed);
    assert.equal(result.rollback?.outcome, "done");
    assert.deepEqual(runner.state.prod.release, {
      version: "1.2.0",
      image: PROD_IMAGE,
      commit: "c0ffee",
    });
    const prodUps = runner.callsFor("prod").filter((c) => c.op === "up");
    assert.deepEqual(prodUps[1]?.opts, {
      policyConfig: policyPackConfig(deployedState().staging.parityBaseline, [
        runner.state.dev.parityBaseline,
      ]),
    });
    assert.equal(runner.config.prod[CONFIG_KEYS.image], PROD_IMAGE);
    assert.equal(runner.config.prod[CONFIG_KEYS.version], "1.2.0");
  });
});

describe("promote: prod approval", () => {
  it("asks at the prompt, naming the release, and deploys on yes", async () => {
    const { runner, reporter } = setup();
    const approver = new ScriptedApprover(true, true);
    const result = await run(runner, reporter, { yes: false }, approver);
    assert.equal(result.exitCode, EXIT.ok);
    assert.deepEqual(approver.questions, [`Deploy 1.3.0 (${STAGING_IMAGE}) to prod?`]);
    // Asked after prod's preview, before prod's up.
    const ops = runner.operations();
    assert.deepEqual(ops.slice(-2), ["preview prod", "up prod"]);
  });

  it("declined at the prompt: exits 4, prod not deployed, prod's stack file as it was", async () => {
    const { runner, reporter } = setup();
    const approver = new ScriptedApprover(true, false);
    const result = await run(runner, reporter, { yes: false }, approver);
    assert.equal(result.exitCode, EXIT.notApproved);
    assert.deepEqual(result.completed, ["dev", "staging"]);
    assert.ok(!runner.operations().includes("up prod"));
    assert.deepEqual(runner.config.prod, stackFiles().prod);
    assert.equal(result.failures[0]?.step, "approval");
  });

  it("no terminal and no --yes: refuses before doing anything at all", async () => {
    const { runner, reporter } = setup();
    const approver = new ScriptedApprover(false, true);
    const result = await run(runner, reporter, { yes: false }, approver);
    assert.equal(result.exitCode, EXIT.notApproved);
    assert.deepEqual(runner.calls, []);
    assert.deepEqual(approver.questions, []);
    assert.deepEqual(result.failures, [
      {
        env: "prod",
        step: "approval",
        reason:
          "prod needs an approval: no terminal to ask on and --yes was not given; nothing was deployed",
      },
    ]);
  });

  it("--yes approves without asking, with or without a terminal", async () => {
    for (const interactive of [true, false]) {
      const { runner, reporter } = setup();
      const approver = new ScriptedApprover(interactive, false);
      const result = await run(runner, reporter, { yes: true }, approver);
      assert.equal(result.exitCode, EXIT.ok);
      assert.deepEqual(approver.questions, []);
    }
  });
});

describe("promote: prod deploys exactly what staging verified", () => {
  it("sets prod's image and version to staging's verifiedRelease before prod's preview and up", async () => {
    const { runner, reporter } = setup();
    // Prod's stack file still names the old digest; staging's names the new one.
    assert.equal(runner.config.prod[CONFIG_KEYS.image], PROD_IMAGE);
    await run(runner, reporter);
    const prodCalls = runner.callsFor("prod");
    const setAt = prodCalls.findIndex((c) => c.op === "setConfig" && c.key === CONFIG_KEYS.image);
    const previewAt = prodCalls.findIndex((c) => c.op === "preview");
    assert.ok(setAt >= 0 && setAt < previewAt);
    assert.equal(prodCalls[setAt]?.value, STAGING_IMAGE);
    assert.deepEqual(runner.state.prod.release, {
      version: "1.3.0",
      image: STAGING_IMAGE,
      commit: "c0ffee",
    });
  });

  it("takes the image staging verified, not the one staging's stack file names", async () => {
    const { runner, reporter } = setup();
    const originalUp = runner.up.bind(runner);
    runner.up = async (env, opts) => {
      const res = await originalUp(env, opts);
      // Staging's smoke tests verified a different digest than its file names (e.g. a re-tag).
      if (env === "staging") {
        runner.state.staging.verifiedRelease = {
          version: "1.3.0",
          image: "ghcr.io/acme/app@sha256:" + "c".repeat(64),
          commit: "c0ffee",
        };
        runner.state.staging.release = runner.state.staging.verifiedRelease;
      }
      return res;
    };
    await run(runner, reporter);
    assert.equal(
      runner.config.prod[CONFIG_KEYS.image],
      "ghcr.io/acme/app@sha256:" + "c".repeat(64),
    );
  });

  it("stops when staging has verified nothing", async () => {
    const { runner, reporter } = setup();
    const originalUp = runner.up.bind(runner);
    runner.up = async (env, opts) => {
      const res = await originalUp(env, opts);
      if (env === "staging") delete runner.state.staging.verifiedRelease;
      return res;
    };
    const result = await run(runner, reporter);
    // Staging's own check catches it first: staging exported no verifiedRelease.
    assert.equal(result.failures[0]?.env, "staging");
    assert.equal(result.failures[0]?.step, "outputs");
    assert.deepEqual(runner.callsFor("prod"), []);
  });

  it("stops at prod's promotion step when staging's verified release is gone", async () => {
    const { runner, reporter } = setup();
    const originalOutputs = runner.outputs.bind(runner);
    runner.outputs = async (env) => {
      const out = await originalOutputs(env);
      // Gone by the time prod reads it (someone ran `pulumi up` on staging by hand in between).
      if (
        env === "staging" &&
        runner.operations().includes("up staging") &&
        runner.callsFor("prod").length > 0
      ) {
        delete out.verifiedRelease;
      }
      return out;
    };
    const result = await run(runner, reporter);
    assert.equal(result.exitCode, EXIT.failed);
    assert.deepEqual(result.failures, [
      {
        env: "prod",
        step: "promotion",
        reason: "staging exports no verifiedRelease: nothing verified to promote",
      },
    ]);
    assert.ok(!runner.operations().some((op) => op.endsWith("prod")));
    assert.deepEqual(runner.config.prod, stackFiles().prod);
  });

  it("fails prod when prod ends up verifying another image than the promoted one", async () => {
    const { runner, reporter } = setup();
    const originalUp = runner.up.bind(runner);
    runner.up = async (env, opts) => {
      const res = await originalUp(env, opts);
      if (env === "prod") {
        const other = { version: "1.3.0", image: PROD_IMAGE, commit: "c0ffee" };
        runner.state.prod.release = other;
        runner.state.prod.verifiedRelease = other;
      }
      return res;
    };
    const result = await run(runner, reporter);
    assert.equal(result.exitCode, EXIT.failed);
    assert.deepEqual(result.failures[0]?.env, "prod");
    assert.match(result.failures[0]?.reason ?? "", /not the promoted/);
  });

  it("a failed prod preview leaves prod's stack file as it was", async () => {
    const { runner, reporter } = setup();
    runner.failPreview = (env) =>
      env === "prod"
        ? { step: "policy", reason: "disallow-lower-environment-secrets: …" }
        : undefined;
    const result = await run(runner, reporter);
    assert.equal(result.exitCode, EXIT.failed);
    assert.deepEqual(runner.config.prod, stackFiles().prod);
  });
});

/** What each environment's stack file named (image, version) when it was previewed. */
function namedAtPreview(runner: FakeRunner) {
  const seen: Partial<Record<EnvName, { image?: string; version?: string }>> = {};
  runner.failPreview = (env, named) => {
    seen[env] = named;
    return undefined;
  };
  return seen;
}

describe("promote --preview", () => {
  it("previews every stack with the policies and baselines and changes nothing", async () => {
    const { runner, reporter } = setup();
    // Non-interactive and no --yes: a preview needs no approval.
    const result = await run(runner, reporter, { preview: true, yes: false });
    assert.equal(result.exitCode, EXIT.ok);
    assert.deepEqual(runner.operations(), ["preview dev", "preview staging", "preview prod"]);
    assert.deepEqual(
      runner.calls.filter((c) => c.op === "up"),
      [],
    );
    assert.deepEqual(runner.config, stackFiles());
    const previews = runner.calls.filter((c) => c.op === "preview");
    assert.deepEqual(previews[0]?.opts, {});
    assert.deepEqual(
      previews[1]?.opts?.policyConfig,
      policyPackConfig(deployedState().dev.parityBaseline),
    );
    assert.deepEqual(
      previews[2]?.opts?.policyConfig,
      policyPackConfig(deployedState().staging.parityBaseline, [
        deployedState().dev.parityBaseline,
      ]),
    );
    assert.match(reporter.of("done")[0]?.summary ?? "", /nothing was changed/);
  });

  it("previews the remaining stacks after one fails, then exits non-zero naming each failure", async () => {
    const { runner, reporter } = setup();
    runner.failPreview = (env) =>
      env === "dev" ? { step: "policy", reason: "missing-resource-limits: …" } : undefined;
    const result = await run(runner, reporter, { preview: true });
    assert.equal(result.exitCode, EXIT.failed);
    assert.deepEqual(runner.operations(), ["preview dev", "preview staging", "preview prod"]);
    assert.deepEqual(
      result.failures.map((f) => `${f.env}:${f.step}`),
      ["dev:policy"],
    );
    assert.match(reporter.of("done")[0]?.summary ?? "", /failed for dev \(policy\)/);
  });

  it("previews prod as a deploy runs it: with the release staging verified, then puts its file back", async () => {
    // Release 1.3.0 has reached staging; prod's stack file still names 1.2.0's digest.
    const state = deployedState();
    const release = { version: "1.3.0", image: STAGING_IMAGE, commit: "n3w" };
    state.staging = {
      release,
      verifiedRelease: release,
      parityBaseline: { from: "staging", image: STAGING_IMAGE },
    };
    const { runner, reporter } = setup(state);
    const seen = namedAtPreview(runner);
    const result = await run(runner, reporter, { preview: true });
    assert.equal(result.exitCode, EXIT.ok);
    // With its own file's image, prod's preview would fail parity against staging's 1.3.0.
    assert.notEqual(stackFiles().prod[CONFIG_KEYS.image], STAGING_IMAGE);
    assert.deepEqual(seen.prod, { image: STAGING_IMAGE, version: "1.3.0" });
    assert.match(
      reporter.of("step").find((e) => e.step === "promotion")?.detail ?? "",
      /^previewing 1\.3\.0 .*, as verified in staging$/,
    );
    assert.deepEqual(runner.config, stackFiles());
    assert.deepEqual(
      runner.calls.filter((c) => c.op === "up"),
      [],
    );
  });

  it("puts prod's stack file back after a failed prod preview", async () => {
    const { runner, reporter } = setup();
    runner.failPreview = (env) =>
      env === "prod" ? { step: "policy", reason: "enforce-environment-parity: …" } : undefined;
    const result = await run(runner, reporter, { preview: true });
    assert.equal(result.exitCode, EXIT.failed);
    assert.deepEqual(runner.config, stackFiles());
  });

  it("previews prod with its own file's image, and says so, when staging verified nothing yet", async () => {
    const state = deployedState();
    delete state.staging.verifiedRelease;
    const { runner, reporter } = setup(state);
    const seen = namedAtPreview(runner);
    const result = await run(runner, reporter, { preview: true });
    assert.equal(result.exitCode, EXIT.ok);
    assert.equal(seen.prod?.image, stackFiles().prod[CONFIG_KEYS.image]);
    assert.deepEqual(
      reporter.of("warning").map((w) => `${w.env}: ${w.message}`),
      [
        "prod: staging exports no verifiedRelease (was it ever deployed?): previewing prod with the image in its own stack file",
      ],
    );
    assert.deepEqual(
      runner.calls.filter((c) => c.op === "setConfig"),
      [],
    );
  });

  it("previews without a baseline when the stack below was never deployed, and warns", async () => {
    const { runner, reporter } = setup({});
    const result = await run(runner, reporter, { preview: true });
    assert.equal(result.exitCode, EXIT.ok);
    const warnings = reporter.of("warning").map((w) => `${w.env}: ${w.message}`);
    // staging and prod have no baseline; prod has no verified release from staging to preview
    assert.equal(warnings.length, 3, warnings.join("\n"));
    assert.match(
      warnings[2] ?? "",
      /^prod: staging exports no verifiedRelease .*its own stack file$/,
    );
    assert.match(
      warnings[0] ?? "",
      /^staging: dev exports no parityBaseline .* no parity baseline to compare with$/,
    );
    for (const call of runner.calls.filter((c) => c.op === "preview"))
      assert.deepEqual(call.opts, {});
  });
});
