/**
 * `npm run verify` as a process: its exit codes, its --json shape, its --markdown, its refusal of
 * bad input (one clear line per problem, in a temporary copy of the repository), its secrets
 * (decrypted in Pulumi's passphrase format, or stand-ins that it names), and that no secret ever
 * reaches its output.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { EXIT, EXIT_CODES_HELP } from "../../model/cli";
import { REPO_ROOT } from "../../model/paths";
import { npmScriptCommand } from "../../tools/build/npmScript";
import { makeEncryptionSalt } from "../../tools/verify/passphrase";
import { md, renderFailureMarkdown, renderMarkdown } from "../../tools/verify/markdown";
import { failureLines, skippedSecretChecks, type VerifyReport } from "../../tools/verify/report";
import { renderText, wrap } from "../../tools/verify/text";
import { configProblems, passphraseFor, redactSecrets } from "../../tools/verify/secrets";
import { resolveSecrets } from "../../tools/verify/stacks";
import { readStackConfig, StackFileError, type StackConfig } from "../../tools/stackConfig";

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runVerify(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<Result> {
  const cwd = opts.cwd ?? REPO_ROOT;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...opts.env }))
    if (v !== undefined) env[k] = v;
  // As `npm run verify` runs it: the checkout's own package.json script (tools/build/register.cjs).
  const [exe, ...pre] = npmScriptCommand(cwd, "verify");
  return new Promise((resolve) => {
    const child = spawn(exe, [...pre, ...args], { cwd, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The stderr lines that are not progress lines: the problems. */
const problems = (stderr: string) =>
  stderr.split("\n").filter((l) => l !== "" && !l.startsWith("verify: ["));

const temps: string[] = [];

/** A copy of the repository (sources and stack files; node_modules linked) to break things in. */
function tempRepo(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-repo-"));
  temps.push(dir);
  const skip = new Set(["node_modules", ".git", ".pulumi", "test", "bench", "bin", ".ci"]);
  for (const entry of fs.readdirSync(REPO_ROOT)) {
    if (skip.has(entry)) continue;
    fs.cpSync(path.join(REPO_ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  // A checkout, as verify runs in one: the program reads the commit it deploys from git.
  execFileSync("git", ["init", "-q"], { cwd: dir });
  return dir;
}

function editStack(dir: string, stack: string, edit: (doc: Record<string, unknown>) => void): void {
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  const doc = parseYaml(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  edit(doc);
  fs.writeFileSync(file, toYaml(doc));
}

/**
 * Encrypts each stack's secrets into its stack file with that stack's passphrase, in Pulumi's
 * passphrase format (a fresh encryptionsalt per stack, as `pulumi stack init` writes it).
 */
function encryptStacks(
  dir: string,
  stacks: Record<string, { passphrase: string; secrets: Record<string, string> }>,
): void {
  for (const [stack, { passphrase, secrets }] of Object.entries(stacks)) {
    const { encryptionsalt, crypter } = makeEncryptionSalt(passphrase);
    editStack(dir, stack, (d) => {
      d.encryptionsalt = encryptionsalt;
      for (const [key, value] of Object.entries(secrets))
        (d.config as Record<string, unknown>)[`env-progression:${key}`] = {
          secure: crypter.encrypt(value),
        };
    });
  }
}

/** No passphrase from the environment the tests run in: each test says which it sets. */
const NO_PASSPHRASE = {
  PULUMI_CONFIG_PASSPHRASE: undefined,
  PULUMI_CONFIG_PASSPHRASE_FILE: undefined,
  PULUMI_CONFIG_PASSPHRASE_DEV: undefined,
  PULUMI_CONFIG_PASSPHRASE_STAGING: undefined,
  PULUMI_CONFIG_PASSPHRASE_PROD: undefined,
};

/** Fails when any canary reaches any of the process's output streams. */
function assertNoCanary(r: Result, canaries: readonly string[]): void {
  for (const c of canaries) {
    assert.ok(!r.stdout.includes(c), `a secret reached verify's stdout`);
    assert.ok(!r.stderr.includes(c), `a secret reached verify's stderr`);
  }
}

/**
 * The --json report of a run that decrypted every stack's dbPassword and found one mandatory
 * violation: prod's secret that a lower environment already uses.
 */
function decryptedLowerSecretReport(r: Result): VerifyReport {
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as VerifyReport;
  assert.deepEqual(report.skippedSecretChecks, []);
  assert.deepEqual(
    report.stacks.map((s) => s.secrets.find((x) => x.key === "dbPassword")?.state),
    ["decrypted", "decrypted", "decrypted"],
    JSON.stringify(report.stacks.map((s) => s.secrets)),
  );
  assert.deepEqual(
    report.violations.filter((x) => x.level === "mandatory").map((x) => [x.stack, x.policy]),
    [["prod", "disallow-lower-environment-secrets"]],
  );
  return report;
}

/** A parity cell of the report. */
function cellOf(report: VerifyReport, id: string, env: string) {
  return report.parity.rows.find((row) => row.id === id)?.cells[env];
}

describe("npm run verify (as a process)", function () {
  this.timeout(180_000);

  after(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  let json: Result;
  before(async () => {
    json = await runVerify(["--json"], { env: NO_PASSPHRASE });
  });

  it("exits 0 on the real stacks and prints the report as JSON", () => {
    assert.equal(json.code, 0, json.stderr);
    const r = JSON.parse(json.stdout) as VerifyReport;
    assert.equal(r.ok, true);
    assert.equal(r.exitCode, 0);
    assert.deepEqual(r.environments, ["dev", "staging", "prod"]);
    assert.deepEqual(
      r.stacks.map((s) => [s.stack, s.violations.length]),
      [
        ["dev", 0],
        ["staging", 0],
        ["prod", 0],
      ],
    );
    assert.deepEqual(
      r.stacks.map((s) => s.comparedWith?.environment),
      [undefined, "dev", "staging"],
    );
    // the parity matrix: one row per item, one cell per environment
    const flag = r.parity.rows.find((row) => row.id === "flag:checkout-v2");
    assert.deepEqual(Object.keys(flag?.cells ?? {}), ["dev", "staging", "prod"]);
    assert.deepEqual(flag?.cells.prod, { display: "on", status: "equal" });
    const image = r.parity.rows.find((row) => row.id === "image:app");
    assert.equal(image?.cells.staging?.status, "allowed");
    assert.match(image?.cells.staging?.reason ?? "", /dev may use a tag/);
    assert.equal(r.parity.rows.find((row) => row.id === "replicas")?.cells.prod?.status, "allowed");
    // the isolation matrix: nine cells, the six cross-environment ones denied
    assert.equal(r.isolation.cells.length, 9);
    for (const c of r.isolation.cells)
      assert.equal(c.allowed, c.from === c.to, `${c.from} -> ${c.to}: ${c.reason}`);
    assert.deepEqual(r.isolation.leaks, []);
    assert.deepEqual(
      r.isolation.external.map((e) => [e.from, e.allowed]),
      [
        ["dev", true],
        ["staging", false],
        ["prod", false],
      ],
    );
    // secrets it could not decrypt are named, never passed silently
    assert.equal(r.skippedSecretChecks.length, 1);
    assert.match(
      r.skippedSecretChecks[0] ?? "",
      /^dbPassword \(dev, staging, prod\): not committed to the stack file; .*NOT checked/,
    );
    assert.equal(
      r.parity.rows.find((row) => row.id === "secretValues")?.cells.prod?.status,
      "not checked",
    );
    // every column counts the same thing: the stack's own secret values
    assert.deepEqual(
      ["dev", "staging", "prod"].map((e) => cellOf(r, "secretValues", e)?.display),
      ["1 fingerprinted", "1 fingerprinted", "1 fingerprinted"],
    );
    // progress goes to stderr, the report alone to stdout
    assert.match(json.stderr, /verify: \[[0-9.]+ s\] evaluating prod/);
    assert.doesNotMatch(json.stdout, /verify-stand-in-/, "no stand-in value is printed");
  });

  it("prints a Markdown report fit for a PR comment", async () => {
    const r = await runVerify(["--markdown", "--stack", "prod"], { env: NO_PASSPHRASE });
    assert.equal(r.code, 0, r.stderr);
    // a pass whose secret checks did not run says so where a reader looks first
    assert.match(
      r.stdout,
      /^### env-progression verify: ✅ no mandatory violation — ⚠️ secret reuse not checked \(no secret committed\)\n/,
    );
    assert.match(r.stdout, /\| item \| dev \| staging \| prod \|/);
    assert.match(
      r.stdout,
      /\| feature flag checkout-v2 \(`flag:checkout-v2`\) \| `on` \| ✅ `on` \| ✅ `on` \|/,
    );
    assert.match(r.stdout, /\| \*\*staging\*\* \| ✅ deny \| ✅ allow \| ✅ deny \| deny \|/);
    assert.match(r.stdout, /<details><summary>/);
    assert.doesNotMatch(r.stdout, /verify: \[/, "progress lines stay on stderr");
  });

  it("--help prints the usage and exits 0; bad arguments exit 2 with one line each", async () => {
    const help = await runVerify(["--help"]);
    assert.equal(help.code, 0);
    assert.match(
      help.stdout,
      /^Usage: npm run verify -- \[--stack NAME\]\.\.\. \[--json \| --markdown\]/,
    );
    assert.match(help.stdout, /^ {2}--help, -h +show this help$/m);
    assert.ok(help.stdout.trimEnd().endsWith(EXIT_CODES_HELP), help.stdout);
    assert.match(help.stdout, /PULUMI_CONFIG_PASSPHRASE_<ENV> +passphrase of one stack/);
    assert.equal((await runVerify(["-h"])).stdout, help.stdout);
    const bad = await runVerify(["--stack", "qa", "--json", "--markdown", "--fast"]);
    assert.equal(bad.code, 2);
    assert.deepEqual(problems(bad.stderr), [
      "verify: --stack qa: not a stack of this project; expected one of dev, staging, prod (see --help)",
      "verify: --json and --markdown exclude each other; give one (see --help)",
      "verify: unknown option --fast (see --help)",
    ]);
    assert.equal(bad.stdout, "", "with both --json and --markdown, no format is clear");
    // with one format asked for, the problems reach stdout too (the PR comment is never empty)
    const badMd = await runVerify(["--markdown", "--stack", "qa"]);
    assert.equal(badMd.code, 2);
    assert.equal(
      badMd.stdout.split("\n")[0],
      "### env-progression verify: ❌ verify could not run",
    );
    assert.match(
      badMd.stdout,
      /^- --stack qa: not a stack of this project; expected one of dev, staging, prod$/m,
    );
    const badJson = await runVerify(["--json", "--fast"]);
    assert.equal(badJson.code, 2);
    assert.deepEqual(JSON.parse(badJson.stdout), {
      ok: false,
      exitCode: 2,
      problems: ["unknown option --fast"],
    });
    assert.deepEqual(problems(badJson.stderr), ["verify: unknown option --fast (see --help)"]);
    // A forgotten stack name and a value for a flag that takes none, worded as every command does.
    const worded = await runVerify(["--stack", "--json=1"]);
    assert.equal(worded.code, 2);
    assert.deepEqual(problems(worded.stderr), [
      "verify: --stack needs a stack name: dev, staging or prod (see --help)",
      "verify: --json takes no value: write --json alone (see --help)",
    ]);
  });

  it("refuses a secret key written in plaintext (exit 2, the program's line), never its value", async () => {
    const dir = tempRepo();
    const canary = "hunter2-plaintext-CANARY";
    fs.appendFileSync(
      path.join(dir, "Pulumi.prod.yaml"),
      `  env-progression:dbPassword: ${canary}\n`,
    );
    const text = await runVerify([], { cwd: dir, env: NO_PASSPHRASE });
    assert.equal(text.code, 2, text.stdout + text.stderr);
    const expected =
      "Pulumi.prod.yaml: env-progression:dbPassword is stored in plaintext; it is the PostgreSQL password for this environment and must be encrypted: rotate it, then set it with: pulumi config set --secret dbPassword <value> -s prod.";
    assert.deepEqual(problems(text.stderr), [expected]);
    assert.equal(text.stdout, "");
    const json = await runVerify(["--json"], { cwd: dir, env: NO_PASSPHRASE });
    assert.equal(json.code, 2);
    assert.deepEqual(JSON.parse(json.stdout), { ok: false, exitCode: 2, problems: [expected] });
    assert.deepEqual(problems(json.stderr), [expected], "stderr as without --json");
    const mdOut = await runVerify(["--markdown"], { cwd: dir, env: NO_PASSPHRASE });
    assert.equal(mdOut.code, 2);
    assert.match(mdOut.stdout, /^### env-progression verify: ❌ verify could not run\n/);
    assert.ok(
      mdOut.stdout.includes(`\n- ${expected.replace("<value>", "&lt;value&gt;")}\n`),
      mdOut.stdout,
    );
    // with a passphrase too: a plain value is refused whether or not others decrypt
    const withPass = await runVerify(["--json"], {
      cwd: dir,
      env: { ...NO_PASSPHRASE, PULUMI_CONFIG_PASSPHRASE: "anything" },
    });
    assert.equal(withPass.code, 2);
    for (const r of [text, json, mdOut, withPass]) assertNoCanary(r, [canary]);
  });

  it("exits 2 on an unreadable or invalid stack file, one clear line per problem, no stack trace", async () => {
    const dir = tempRepo();
    fs.writeFileSync(
      path.join(dir, "Pulumi.staging.yaml"),
      "config:\n  env-progression:replicas: [1\n",
    );
    fs.rmSync(path.join(dir, "Pulumi.prod.yaml"));
    const r = await runVerify([], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    const lines = problems(r.stderr);
    assert.equal(lines.length, 2, lines.join("\n"));
    assert.match(lines[0] ?? "", /^Pulumi\.staging\.yaml: is not valid YAML: /);
    assert.match(lines[1] ?? "", /^Pulumi\.prod\.yaml: cannot be read \(ENOENT\)/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  });

  it("exits 2 on a stack config the program refuses, with the program's own lines", async () => {
    const dir = tempRepo();
    editStack(dir, "prod", (d) => {
      const c = d.config as Record<string, unknown>;
      c["env-progression:replicas"] = "many";
      c["env-progression:replicsa"] = 3;
    });
    const r = await runVerify(["--stack", "prod"], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    const lines = problems(r.stderr);
    assert.equal(lines.length, 2, lines.join("\n"));
    assert.equal(
      lines[0],
      'Pulumi.prod.yaml: env-progression:replicas is "many"; expected a whole number from 0 to 1000.',
    );
    assert.equal(
      lines[1],
      "Pulumi.prod.yaml: env-progression:replicsa is not a key of this project; did you mean env-progression:replicas?",
    );
    // word for word what the program's own check (model/config/parse.ts) says about this stack file
    const cfg = readStackConfig(dir, "prod");
    assert.deepEqual(
      lines,
      configProblems("prod", cfg.values, []).filter((p) => !p.includes("dbPassword")),
    );
  });

  it("names Pulumi.yaml, once, for a bad project default every stack inherits", async () => {
    const dir = tempRepo();
    const file = path.join(dir, "Pulumi.yaml");
    const doc = parseYaml(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    doc.config.containerPort = { type: "integer", default: "abc" };
    fs.writeFileSync(file, toYaml(doc));
    const r = await runVerify([], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    const lines = problems(r.stderr);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0] ?? "",
      /^Pulumi\.yaml: env-progression:containerPort is "abc"; expected /,
    );
  });

  it("exits 1 on a mandatory violation, and says which policy, where, and why", async () => {
    const dir = tempRepo();
    editStack(
      dir,
      "prod",
      (d) =>
        ((d.config as Record<string, unknown>)["env-progression:featureFlags"] = [
          "checkout-v2=off",
          "search-v2=off",
        ]),
    );
    const r = await runVerify([], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout,
      /✗ \[mandatory\] prod {2}enforce-environment-parity {2}ConfigMap prod-app-flags/,
    );
    assert.match(r.stdout, /flag:checkout-v2 +on += +✗ off \[\d+\]/);
    assert.match(
      r.stdout,
      /flag:checkout-v2 in prod: FORBIDDEN: it differs between staging and prod/,
    );
    assert.match(r.stdout, /Result: 1 mandatory policy violation \(exit 1\)/);
    // the message's placeholders survive GitHub's HTML filter in the PR comment
    const mdOut = await runVerify(["--markdown", "--stack", "prod"], { cwd: dir });
    assert.equal(mdOut.code, 1, mdOut.stderr);
    assert.match(mdOut.stdout, /^### env-progression verify: ❌ 1 mandatory policy violation/);
    assert.match(mdOut.stdout, /reason: &lt;why&gt;, expires: &lt;YYYY-MM-DD&gt;/);
    assert.doesNotMatch(mdOut.stdout, /<why>|<YYYY-MM-DD>/);
  });

  it("counts a policy violation and an isolation leak apart in the result", async () => {
    const dir = tempRepo();
    // prod lets dev's namespace in: the pack flags the NetworkPolicy, the matrix the dev -> prod leak
    editStack(dir, "prod", (d) => {
      (d.config as Record<string, unknown>)["env-progression:ingressNamespaces"] = [
        "ingress-nginx",
        "app-dev",
      ];
    });
    const r = await runVerify([], { cwd: dir, env: NO_PASSPHRASE });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^Violations: 1 mandatory, 0 other$/m);
    assert.match(r.stdout, /^ {2}✗ dev → prod: /m);
    assert.match(
      r.stdout,
      /^Result: 1 mandatory policy violation and 1 isolation leak \(exit 1\); secret reuse NOT checked \(no secret committed\), [0-9.]+ s$/m,
    );
  });

  it("EXIT.internal (the pack does not start): useful lines, no colours or stack frames, on stdout too", async () => {
    const dir = tempRepo();
    const index = path.join(dir, "policies", "index.ts");
    fs.writeFileSync(index, `import "./does-not-exist";\n${fs.readFileSync(index, "utf8")}`);
    const r = await runVerify(["--json"], {
      cwd: dir,
      env: { ...NO_PASSPHRASE, FORCE_COLOR: "1" },
    });
    assert.equal(r.code, EXIT.internal, r.stderr);
    const lines = problems(r.stderr);
    assert.match(
      lines[0] ?? "",
      /^verify failed: the policy pack in .* exited \(\d+\) before printing its port:$/,
    );
    assert.ok(
      lines.some((l) => l.includes("Cannot find module './does-not-exist'")),
      lines.join("\n"),
    );
    assert.doesNotMatch(r.stderr, /\x1b\[/, "no terminal escapes when stderr is not a terminal");
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack frames");
    assert.doesNotMatch(
      r.stderr,
      /MODULE_NOT_FOUND|requireStack/,
      "no dump of the error's properties",
    );
    const report = JSON.parse(r.stdout) as { ok: boolean; exitCode: number; problems: string[] };
    assert.equal(report.ok, false);
    assert.equal(report.exitCode, EXIT.internal);
    assert.deepEqual(report.problems, [
      lines[0]?.replace(/^verify failed: /, ""),
      ...lines.slice(1),
    ]);
    const mdOut = await runVerify(["--markdown"], { cwd: dir, env: NO_PASSPHRASE });
    assert.equal(mdOut.code, EXIT.internal);
    assert.match(mdOut.stdout, /^### env-progression verify: ❌ verify could not run\n/);
    assert.match(mdOut.stdout, /\n- the policy pack in .* exited/);
    assert.match(mdOut.stdout, /Cannot find module '\.\/does-not-exist'/);
  });

  it("reads parity exceptions from the stack file: a valid one allows, an expired one no longer does", async () => {
    const dir = tempRepo();
    editStack(dir, "prod", (d) => {
      const c = d.config as Record<string, unknown>;
      c["env-progression:featureFlags"] = ["checkout-v2=off", "search-v2=on"];
      c["env-progression:parityExceptions"] = [
        {
          item: "flag:checkout-v2",
          reason: "checkout v2 waits for the payment provider's prod keys",
          expires: "2999-12-31",
        },
        {
          item: "flag:search-v2",
          reason: "search v2 was trialled in prod for one week",
          expires: "2000-01-31",
        },
      ];
    });
    const r = await runVerify(["--json"], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as VerifyReport;
    const cell = (id: string) => report.parity.rows.find((row) => row.id === id)?.cells.prod;
    assert.equal(cell("flag:checkout-v2")?.status, "allowed");
    assert.match(
      cell("flag:checkout-v2")?.reason ?? "",
      /^exception until 2999-12-31: checkout v2 waits/,
    );
    assert.equal(cell("flag:search-v2")?.status, "forbidden");
    assert.match(cell("flag:search-v2")?.reason ?? "", /its exception expired after 2000-01-31/);
    const v = report.violations.filter((x) => x.level === "mandatory");
    assert.deepEqual(
      v.map((x) => [x.stack, x.policy]),
      [["prod", "enforce-environment-parity"]],
    );
    assert.match(v[0]?.message ?? "", /flag:search-v2/);
  });

  it("decrypts passphrase secrets, refuses a dev secret in prod, and never prints a secret", async () => {
    const dir = tempRepo();
    const passphrase = "correct horse battery staple";
    const values = {
      dev: "verify-canary-dev-51c0d3",
      staging: "verify-canary-staging-9e1a77",
      prod: "verify-canary-dev-51c0d3",
    };
    const tokens = {
      dev: "verify-token-dev-0c4b21",
      staging: "verify-token-staging-77a310",
      prod: "verify-token-prod-5e9f02",
    };
    encryptStacks(
      dir,
      Object.fromEntries(
        (["dev", "staging", "prod"] as const).map((stack) => [
          stack,
          { passphrase, secrets: { dbPassword: values[stack], smokeToken: tokens[stack] } },
        ]),
      ),
    );
    const r = await runVerify(["--json"], {
      cwd: dir,
      env: { ...NO_PASSPHRASE, PULUMI_CONFIG_PASSPHRASE: passphrase },
    });
    const report = decryptedLowerSecretReport(r);
    const v = report.violations.filter((x) => x.level === "mandatory");
    assert.match(v[0]?.message ?? "", /\(dev's config dbPassword\)/);
    assert.equal(
      report.parity.rows.find((row) => row.id === "secretValues")?.cells.staging?.status,
      "allowed",
    );
    // the matrix agrees with the violation: prod's values are compared with dev's too, not only
    // with staging's, and every column counts the same thing (dbPassword, smokeToken)
    const prodCell = cellOf(report, "secretValues", "prod");
    assert.equal(prodCell?.status, "forbidden", JSON.stringify(prodCell));
    assert.match(prodCell?.reason ?? "", /config dbPassword .*reuses dev's config dbPassword/);
    assert.doesNotMatch(prodCell?.reason ?? "", /staging's/);
    assert.deepEqual(
      ["dev", "staging", "prod"].map((e) => cellOf(report, "secretValues", e)?.display),
      ["2 fingerprinted", "2 fingerprinted", "2 fingerprinted"],
    );
    assertNoCanary(r, [...Object.values(values), ...Object.values(tokens)]);
    const wrong = await runVerify(["--json", "--stack", "dev"], {
      cwd: dir,
      env: { ...NO_PASSPHRASE, PULUMI_CONFIG_PASSPHRASE: "wrong" },
    });
    assert.equal(wrong.code, 0, wrong.stderr);
    assert.match(
      JSON.parse(wrong.stdout).skippedSecretChecks[0],
      /^dbPassword \(dev\): incorrect passphrase.*\(the passphrase came from PULUMI_CONFIG_PASSPHRASE\)/,
    );
    assertNoCanary(wrong, [...Object.values(values), ...Object.values(tokens)]);
  });

  it("reads each stack's own passphrase (PULUMI_CONFIG_PASSPHRASE_<ENV>) before the shared one", async () => {
    const dir = tempRepo();
    const pass = {
      dev: "dev passphrase 1f",
      staging: "staging passphrase 2e",
      prod: "prod passphrase 3d",
    };
    const values = {
      dev: "verify-canary-own-dev-8b1e",
      staging: "verify-canary-own-staging-4f0a",
      prod: "verify-canary-own-dev-8b1e",
    };
    encryptStacks(dir, {
      dev: { passphrase: pass.dev, secrets: { dbPassword: values.dev } },
      staging: { passphrase: pass.staging, secrets: { dbPassword: values.staging } },
      prod: { passphrase: pass.prod, secrets: { dbPassword: values.prod } },
    });
    // dev and prod have their own; staging has none and takes the shared one, which is wrong for
    // dev and prod: they decrypt only if their own variable is read first
    const r = await runVerify(["--json"], {
      cwd: dir,
      env: {
        ...NO_PASSPHRASE,
        PULUMI_CONFIG_PASSPHRASE_DEV: pass.dev,
        PULUMI_CONFIG_PASSPHRASE_PROD: pass.prod,
        PULUMI_CONFIG_PASSPHRASE: pass.staging,
      },
    });
    const report = decryptedLowerSecretReport(r);
    assert.equal(cellOf(report, "secretValues", "prod")?.status, "forbidden");
    assertNoCanary(r, [...Object.values(values), ...Object.values(pass)]);
  });

  it("marks a lower secret copied into plain text in the matrix too, naming where, never the value", async () => {
    const dir = tempRepo();
    const passphrase = "plain copy passphrase 7c";
    const values = { dev: "verifycanarydev0a9d", staging: "verify-canary-staging-e31f" };
    encryptStacks(dir, {
      dev: { passphrase, secrets: { dbPassword: values.dev } },
      staging: { passphrase, secrets: { dbPassword: values.staging } },
    });
    // staging's own password is its own, but its release version is dev's password: it lands in
    // the APP_VERSION env var and an annotation, in plain text
    editStack(dir, "staging", (d) => {
      (d.config as Record<string, unknown>)["env-progression:version"] = values.dev;
    });
    const r = await runVerify(["--json", "--stack", "staging"], {
      cwd: dir,
      env: { ...NO_PASSPHRASE, PULUMI_CONFIG_PASSPHRASE: passphrase },
    });
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as VerifyReport;
    const lower = report.violations.filter(
      (v) => v.policy === "disallow-lower-environment-secrets",
    );
    assert.ok(lower.length > 0, JSON.stringify(report.violations));
    assert.ok(
      lower.every((v) => v.stack === "staging" && /dev's config dbPassword/.test(v.message)),
    );
    const cell = cellOf(report, "secretValues", "staging");
    assert.equal(cell?.status, "forbidden", JSON.stringify(cell));
    assert.match(cell?.display ?? "", /^1 fingerprinted, \d+ in plain text$/);
    assert.match(
      cell?.reason ?? "",
      /^a lower environment's secret is copied into plain text in .*Deployment.* \(disallow-lower-environment-secrets\)$/,
    );
    assertNoCanary(r, Object.values(values));
  });

  it("fits the text report to the width: = for a value equal to its left, values cut, notes wrapped", () => {
    const base = JSON.parse(json.stdout) as VerifyReport;
    const narrow = renderText(base, 100).split("\n");
    for (const line of narrow.filter((l) => !l.startsWith("Result:")))
      assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
    // equal to the value on its left: the marker alone
    assert.ok(
      narrow.some((l) => /^ {2}flag:checkout-v2 +on += +=$/.test(l)),
      narrow.join("\n"),
    );
    // a difference keeps its marker and note number; its value is cut short with …
    const image = narrow.find((l) => l.startsWith("  image:app ")) ?? "";
    assert.match(image, /^ {2}image:app +node:24-alpine +≈ node:24-a\S*… \[1\] +=$/);
    // a note longer than the width continues under its own text
    const note = narrow.findIndex((l) => l.startsWith("  [1] image:app in staging: allowed:"));
    assert.ok(
      note > 0 && /^ {6}\S/.test(narrow[note + 1] ?? ""),
      narrow.slice(note, note + 2).join("\n"),
    );
    // a wide terminal shows the values whole
    const wide = renderText(base, 200);
    assert.match(wide, /≈ node:24-alpine@sha256:[0-9a-f]{12}… \[1\]/);
    assert.match(
      wide,
      /\n {2}\[1\] image:app in staging: allowed: dev may use a tag; the repository and tag match and staging pins the digest\n/,
    );
    assert.deepEqual(wrap("a  b ccc dd", 6, "> ", "  "), ["> a  b", "  ccc", "  dd"]);
    assert.deepEqual(wrap("averyveryverylongword x", 6), ["averyveryverylongword", "x"]);
  });

  it("renders the report: the secret-reuse caveat, the result's two counts, Markdown escapes", () => {
    const base = JSON.parse(json.stdout) as VerifyReport;
    assert.ok(base.skippedSecretChecks.length > 0, "the real stacks commit no secret");
    // not checked: said in the heading and the Result line
    assert.match(
      renderMarkdown(base).split("\n")[0] ?? "",
      /^### env-progression verify: ✅ no mandatory violation — ⚠️ secret reuse not checked \(no secret committed\)$/,
    );
    assert.match(
      renderText(base),
      /\nResult: no mandatory violation \(exit 0\); secret reuse NOT checked \(no secret committed\), /,
    );
    const noPassStacks = base.stacks.map((st) => ({
      ...st,
      secrets: [
        {
          key: "dbPassword" as const,
          state: "stand-in" as const,
          why: `no passphrase: neither PULUMI_CONFIG_PASSPHRASE_${st.stack.toUpperCase()} nor PULUMI_CONFIG_PASSPHRASE is set`,
        },
      ],
    }));
    const noPass: VerifyReport = {
      ...base,
      stacks: noPassStacks,
      skippedSecretChecks: skippedSecretChecks(noPassStacks),
    };
    assert.match(
      noPass.skippedSecretChecks[0] ?? "",
      /^dbPassword \(dev, staging, prod\): no passphrase: neither PULUMI_CONFIG_PASSPHRASE_<ENV> nor PULUMI_CONFIG_PASSPHRASE is set; /,
    );
    assert.match(
      renderMarkdown(noPass),
      /^[^\n]*— ⚠️ secret reuse not checked \(no passphrase\)\n/,
    );
    // --stack prod: prod decrypted, a stack below it not: still not checked
    const onlyProd: VerifyReport = {
      ...noPass,
      stacks: noPass.stacks
        .filter((st) => st.stack === "prod")
        .map((st) => ({ ...st, secrets: [{ key: "dbPassword", state: "decrypted" }] })),
    };
    assert.match(
      renderMarkdown(onlyProd),
      /^[^\n]*— ⚠️ secret reuse not checked \(no passphrase\)\n/,
    );
    // all checked: no caveat
    const checked: VerifyReport = {
      ...base,
      skippedSecretChecks: [],
      stacks: base.stacks.map((s) => ({
        ...s,
        secrets: [{ key: "dbPassword", state: "decrypted" }],
      })),
    };
    assert.equal(
      renderMarkdown(checked).split("\n")[0],
      "### env-progression verify: ✅ no mandatory violation",
    );
    assert.doesNotMatch(renderText(checked), /NOT checked/);
    // a policy violation and an isolation leak, each counted as what it is
    const leak = base.isolation.leaks[0] ?? {
      from: "dev",
      to: "prod",
      reason: "allowed on all ports",
    };
    const failing: VerifyReport = {
      ...checked,
      ok: false,
      exitCode: 1,
      violations: [
        {
          stack: "prod",
          policy: "enforce-environment-parity",
          level: "mandatory",
          urn: "urn:pulumi:prod::env-progression::kubernetes:core/v1:ConfigMap::prod-app-flags",
          resource: "ConfigMap prod-app-flags",
          message: "add {item: flag:x, reason: <why>, expires: <YYYY-MM-DD>} & a | pipe",
        },
      ],
      isolation: { ...base.isolation, leaks: [leak] },
    };
    const text = renderText(failing);
    assert.match(text, /\nViolations: 1 mandatory, 0 other\n/);
    assert.match(text, /\nResult: 1 mandatory policy violation and 1 isolation leak \(exit 1\), /);
    const mdOut = renderMarkdown(failing);
    assert.equal(
      mdOut.split("\n")[0],
      "### env-progression verify: ❌ 1 mandatory policy violation and 1 isolation leak",
    );
    assert.ok(
      mdOut.includes(
        "| add {item: flag:x, reason: &lt;why&gt;, expires: &lt;YYYY-MM-DD&gt;} &amp; a \\| pipe |",
      ),
      mdOut,
    );
    assert.equal(md("<key> & <b>"), "&lt;key&gt; &amp; &lt;b&gt;");
    const twoLeaks = renderText({
      ...failing,
      violations: [],
      isolation: { ...failing.isolation, leaks: [leak, leak] },
    });
    assert.match(twoLeaks, /\nResult: 2 isolation leaks \(exit 1\), /);
  });
});

describe("verify's failure output", () => {
  it("keeps the useful lines of a child's error: no ANSI escapes, stack frames or property dump", () => {
    const message = [
      "the policy pack in /x/policies exited (32) before printing its port:",
      "error: [runtime] Running program '/x/policies' failed with an unhandled exception:",
      "    Error: Cannot find module './nope'",
      "",
      "\x1b[90m    at Function.Module._resolveFilename (node:internal/modules/cjs/loader:1207:15)\x1b[39m",
      "    at Object.<anonymous> \x1b[90m(/x/policies/\x1b[39mindex.ts:1:1\x1b[90m)\x1b[39m",
      "    at Object.require.extensions.<computed> [as .ts] (/n/ts-node/src/index.ts:1621:12) {",
      "  code: \x1b[32m'MODULE_NOT_FOUND'\x1b[39m,",
      "  requireStack: [",
      "    \x1b[32m'/x/policies/index.ts'\x1b[39m",
      "  ]",
      "}",
      "\x1b[31mafter the dump\x1b[39m",
    ].join("\n");
    assert.deepEqual(failureLines(message), [
      "the policy pack in /x/policies exited (32) before printing its port:",
      "error: [runtime] Running program '/x/policies' failed with an unhandled exception:",
      "    Error: Cannot find module './nope'",
      "after the dump",
    ]);
    const long = failureLines(Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n"));
    assert.equal(long.length, 20);
    assert.equal(long[19], "… 11 more lines");
  });

  it("renders exit 2 as one bullet per problem, escaped", () => {
    const out = renderFailureMarkdown({
      ok: false,
      exitCode: 2,
      problems: ["Pulumi.prod.yaml: a <key> is wrong", "Pulumi.dev.yaml: b | c"],
    });
    assert.equal(
      out,
      [
        "### env-progression verify: ❌ verify could not run",
        "",
        "Bad input: fix these and run `npm run verify` again.",
        "",
        "- Pulumi.prod.yaml: a &lt;key&gt; is wrong",
        "- Pulumi.dev.yaml: b \\| c",
        "",
        "<sub>exit 2 · `npm run verify -- --markdown`</sub>",
        "",
      ].join("\n"),
    );
  });
});

describe("verify's secrets", () => {
  // Pulumi's own vector (pulumi/pulumi pkg/secrets/passphrase/manager_test.go), see test/fixtures/passphrase.
  const vector = parseYaml(
    fs.readFileSync(
      path.join(REPO_ROOT, "test", "fixtures", "passphrase", "pulumi-manager-test.yaml"),
      "utf8",
    ),
  ) as Record<string, string>;
  const cfg = (secure: Record<string, string>): StackConfig => ({
    stack: "dev",
    values: {},
    secure,
    encryptionsalt: vector.encryptionsalt,
    sources: {},
  });

  it("decrypts a stack file's secure value written by Pulumi itself", function () {
    this.timeout(30_000);
    const s = resolveSecrets(
      cfg({ "env-progression:dbPassword": vector.ciphertext as string }),
      vector.passphrase,
    );
    assert.deepEqual(s.statuses, [
      { key: "dbPassword", state: "decrypted" },
      { key: "smokeToken", state: "absent" },
    ]);
    assert.equal(s.values["env-progression:dbPassword"], vector.plaintext);
  });

  it("uses a stand-in, and says why, when it cannot decrypt", function () {
    this.timeout(30_000);
    const none = resolveSecrets(
      cfg({ "env-progression:dbPassword": vector.ciphertext as string }),
      undefined,
    );
    assert.deepEqual(none.statuses[0], {
      key: "dbPassword",
      state: "stand-in",
      why: "no passphrase: neither PULUMI_CONFIG_PASSPHRASE_DEV nor PULUMI_CONFIG_PASSPHRASE is set",
    });
    const wrong = resolveSecrets(
      cfg({ "env-progression:dbPassword": vector.ciphertext as string }),
      vector.wrongPassphrase,
    );
    assert.equal(wrong.statuses[0]?.state, "stand-in");
    assert.match((wrong.statuses[0] as { why: string }).why, /^incorrect passphrase/);
    const missing = resolveSecrets(cfg({}), vector.passphrase);
    assert.deepEqual(missing.statuses[0], {
      key: "dbPassword",
      state: "stand-in",
      why: "not committed to Pulumi.dev.yaml",
    });
    assert.match(
      missing.values["env-progression:dbPassword"] ?? "",
      /^verify-stand-in-dev-dbPassword-/,
    );
  });
});

describe("verify's secrets: plaintext and passphrases", () => {
  const plain = (values: Record<string, string>): StackConfig => ({
    stack: "prod",
    values,
    secure: {},
    encryptionsalt: undefined,
    sources: {},
  });

  it("gives a secret key with a plain value no stand-in, so the program's check refuses it", () => {
    const canary = "hunter2-plaintext-CANARY";
    const cfg = plain({ "env-progression:dbPassword": canary });
    const s = resolveSecrets(cfg, undefined);
    assert.deepEqual(s.statuses, [
      { key: "dbPassword", state: "plaintext" },
      { key: "smokeToken", state: "absent" },
    ]);
    assert.deepEqual(s.values, {}, "no stand-in over the plain value");
    const found = configProblems("prod", { ...cfg.values, ...s.values }, Object.keys(s.values));
    const line = found.find((p) => p.includes("env-progression:dbPassword"));
    assert.match(
      line ?? "",
      /^Pulumi\.prod\.yaml: env-progression:dbPassword is stored in plaintext;/,
    );
    assert.ok(!found.some((p) => p.includes(canary)), "the value is never repeated");
  });

  it("finds a stack's passphrase as npm run promote does: its own variable, then the shared ones", () => {
    const files: Record<string, string> = { "/p/shared": "from the file\n" };
    const read = (f: string) => {
      const t = files[f];
      if (t === undefined) throw new Error("ENOENT");
      return t;
    };
    assert.deepEqual(
      passphraseFor(
        "prod",
        { PULUMI_CONFIG_PASSPHRASE_PROD: "own", PULUMI_CONFIG_PASSPHRASE: "shared" },
        read,
      ),
      { value: "own", source: "PULUMI_CONFIG_PASSPHRASE_PROD" },
    );
    assert.deepEqual(
      passphraseFor(
        "prod",
        { PULUMI_CONFIG_PASSPHRASE_PROD: "", PULUMI_CONFIG_PASSPHRASE: "x" },
        read,
      ),
      { value: "", source: "PULUMI_CONFIG_PASSPHRASE_PROD" },
      "an empty passphrase is a passphrase, as in Pulumi",
    );
    assert.deepEqual(
      passphraseFor(
        "staging",
        { PULUMI_CONFIG_PASSPHRASE_PROD: "own", PULUMI_CONFIG_PASSPHRASE: "shared" },
        read,
      ),
      { value: "shared", source: "PULUMI_CONFIG_PASSPHRASE" },
    );
    assert.deepEqual(passphraseFor("dev", { PULUMI_CONFIG_PASSPHRASE_FILE: "/p/shared" }, read), {
      value: "from the file",
      source: "PULUMI_CONFIG_PASSPHRASE_FILE",
    });
    assert.equal(passphraseFor("dev", { PULUMI_CONFIG_PASSPHRASE_FILE: "" }, read), undefined);
    assert.equal(passphraseFor("dev", {}, read), undefined);
    assert.throws(
      () => passphraseFor("dev", { PULUMI_CONFIG_PASSPHRASE_FILE: "/p/missing" }, read),
      (err: unknown) =>
        err instanceof StackFileError &&
        err.problems[0] === "PULUMI_CONFIG_PASSPHRASE_FILE: cannot read /p/missing",
    );
  });

  it("redacts secret values from a message verify did not write", () => {
    assert.equal(
      redactSecrets("failed: connect with hunter2-long and hunter2 at db", [
        "hunter2",
        "hunter2-long",
        "",
      ]),
      "failed: connect with [secret] and [secret] at db",
    );
    assert.equal(redactSecrets("nothing here", []), "nothing here");
  });
});
