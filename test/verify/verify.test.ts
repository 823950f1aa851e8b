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
import { makeEncryptionSalt } from "../../model/passphrase";
import { ROOT } from "../../tools/evaluate";
import type { VerifyReport } from "../../tools/verify/report";
import { resolveSecrets } from "../../tools/verify/stacks";
import type { StackConfig } from "../../tools/stackConfig";

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runVerify(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<Result> {
  const cwd = opts.cwd ?? ROOT;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...opts.env }))
    if (v !== undefined) env[k] = v;
  const tsNode = path.join(cwd, "node_modules", "ts-node", "dist", "bin.js");
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [tsNode, "--transpile-only", "tools/verify.ts", ...args],
      { cwd, env },
    );
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
  for (const entry of fs.readdirSync(ROOT)) {
    if (skip.has(entry)) continue;
    fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
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

describe("npm run verify (as a process)", function () {
  this.timeout(180_000);

  after(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  let json: Result;
  before(async () => {
    json = await runVerify(["--json"]);
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
    // progress goes to stderr, the report alone to stdout
    assert.match(json.stderr, /verify: \[[0-9.]+ s\] evaluating prod/);
    assert.doesNotMatch(json.stdout, /verify-stand-in-/, "no stand-in value is printed");
  });

  it("prints a Markdown report fit for a PR comment", async () => {
    const r = await runVerify(["--markdown", "--stack", "prod"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^### env-progression verify: ✅ no mandatory violation/);
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
      /^usage: npm run verify -- \[--stack NAME\]\.\.\. \[--json \| --markdown\]/,
    );
    const bad = await runVerify(["--stack", "qa", "--json", "--markdown", "--fast"]);
    assert.equal(bad.code, 2);
    assert.deepEqual(problems(bad.stderr), [
      "--stack qa: not a stack of this project; expected one of dev, staging, prod",
      "--json and --markdown exclude each other; give one",
      "--fast: unknown argument; see --help",
    ]);
    assert.equal(bad.stdout, "");
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
    assert.deepEqual(problems(r.stderr), [
      'Pulumi.prod.yaml: env-progression:replicas is "many"; expected a whole number from 0 to 1000.',
      "Pulumi.prod.yaml: env-progression:replicsa is not a known key; expected did you mean env-progression:replicas?",
    ]);
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
    assert.match(r.stdout, /flag:checkout-v2 +on +(= )?on +✗ off \[\d+\]/);
    assert.match(
      r.stdout,
      /flag:checkout-v2 in prod: FORBIDDEN: it differs between staging and prod/,
    );
    assert.match(r.stdout, /Result: 1 mandatory violation\(s\) \(exit 1\)/);
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
    const { encryptionsalt, crypter } = makeEncryptionSalt(passphrase);
    const values = {
      dev: "verify-canary-dev-51c0d3",
      staging: "verify-canary-staging-9e1a77",
      prod: "verify-canary-dev-51c0d3",
    };
    for (const [stack, value] of Object.entries(values)) {
      editStack(dir, stack, (d) => {
        d.encryptionsalt = encryptionsalt;
        (d.config as Record<string, unknown>)["env-progression:dbPassword"] = {
          secure: crypter.encrypt(value),
        };
      });
    }
    const r = await runVerify(["--json"], {
      cwd: dir,
      env: { PULUMI_CONFIG_PASSPHRASE: passphrase },
    });
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as VerifyReport;
    assert.deepEqual(report.skippedSecretChecks, []);
    assert.deepEqual(
      report.stacks.map((s) => s.secrets.find((x) => x.key === "dbPassword")?.state),
      ["decrypted", "decrypted", "decrypted"],
    );
    const v = report.violations.filter((x) => x.level === "mandatory");
    assert.deepEqual(
      v.map((x) => [x.stack, x.policy]),
      [["prod", "disallow-lower-environment-secrets"]],
    );
    assert.match(v[0]?.message ?? "", /\(dev's config dbPassword\)/);
    assert.equal(
      report.parity.rows.find((row) => row.id === "secretValues")?.cells.staging?.status,
      "allowed",
    );
    for (const value of Object.values(values)) {
      assert.ok(
        !r.stdout.includes(value) && !r.stderr.includes(value),
        "a secret reached verify's output",
      );
    }
    const wrong = await runVerify(["--json", "--stack", "dev"], {
      cwd: dir,
      env: { PULUMI_CONFIG_PASSPHRASE: "wrong" },
    });
    assert.equal(wrong.code, 0, wrong.stderr);
    assert.match(
      JSON.parse(wrong.stdout).skippedSecretChecks[0],
      /^dbPassword \(dev\): incorrect passphrase/,
    );
  });
});

describe("verify's secrets", () => {
  // Pulumi's own vector (pulumi/pulumi pkg/secrets/passphrase/manager_test.go), see test/fixtures/passphrase.
  const vector = parseYaml(
    fs.readFileSync(
      path.join(ROOT, "test", "fixtures", "passphrase", "pulumi-manager-test.yaml"),
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
      why: "PULUMI_CONFIG_PASSPHRASE is not set",
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
