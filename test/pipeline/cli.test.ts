import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { USAGE, UsageError, parseCommandLine } from "../../tools/promote/args";
import { describeChanges, progressLine } from "../../tools/promote/automation";
import { EXIT, EXIT_CODES_HELP, parseOptions } from "../../model/cli";
import type { PolicyPackConfig } from "../../tools/promote/ports";
import {
  USAGE as USAGE_POLICY_CONFIG,
  UsageError as PolicyConfigUsageError,
  parseBaseline,
  parsePolicyConfigArgs,
} from "../../tools/promote/policy-config";
import {
  fileBackendDir,
  findOnPath,
  missingPassphrases,
  readProjectFile,
  resolveBackend,
  stackFileProblems,
  stackVariables,
  usesPassphrase,
} from "../../tools/promote/setup";
import { formatEvent, isYes } from "../../tools/promote/terminal";
import { policyPackConfig } from "../../model/baseline";
import { evaluateStack } from "../../tools/evaluate";

import { REPO_ROOT as REPO } from "../../model/paths";
import { npmScriptCommand } from "../../tools/build/npmScript";

describe("promote command line", () => {
  it("defaults to the whole chain, deploying, asking for prod", () => {
    assert.deepEqual(parseCommandLine([]), {
      kind: "run",
      options: { to: "prod", preview: false, yes: false },
    });
  });

  it("reads --to, --preview, --yes and -y", () => {
    assert.deepEqual(parseCommandLine(["--to", "staging", "--preview"]), {
      kind: "run",
      options: { to: "staging", preview: true, yes: false },
    });
    assert.deepEqual(parseCommandLine(["--to=dev", "-y"]), {
      kind: "run",
      options: { to: "dev", preview: false, yes: true },
    });
    assert.deepEqual(parseCommandLine(["-h"]), { kind: "help" });
  });

  const bad: [string[], RegExp][] = [
    [["--to", "qa"], /^--to must be one of dev, staging, prod, not "qa"$/],
    [["--to"], /^--to needs a value: one of dev, staging, prod$/],
    [["--to", "--yes"], /^--to needs a value/],
    [["--force"], /^unknown option --force$/],
    [["prod"], /^unexpected argument "prod"$/],
    [["--yes=no"], /^--yes takes no value: write --yes alone$/],
    [["-y=1"], /^-y \(--yes\) takes no value: write -y alone$/],
    [["-x=1"], /^unknown option -x$/],
  ];
  for (const [argv, message] of bad) {
    it(`rejects ${argv.join(" ")} with a one-line usage error`, () => {
      assert.throws(
        () => parseCommandLine(argv),
        (err: unknown) =>
          err instanceof UsageError && message.test(err.message) && !err.message.includes("\n"),
      );
    });
  }

  it("refuses a short flag that takes a value written with =, which parseArgs would read as =VALUE", () => {
    const options = { deadline: { type: "string", short: "d" } } as const;
    assert.equal(parseOptions(["-d", "5"], options).deadline, "5");
    assert.throws(
      () => parseOptions(["-d=5"], options),
      (err: unknown) =>
        err instanceof UsageError &&
        err.message === "-d takes its value after a space: write -d VALUE or --deadline=VALUE",
    );
    // After --, nothing is an option of ours.
    assert.throws(() => parseOptions(["--", "-d=5"], options), /unexpected argument "-d=5"/);
  });

  it("documents every option in --help", () => {
    for (const text of [
      "--to",
      "--preview",
      "--yes",
      "PULUMI_BACKEND_URL",
      "PULUMI_CONFIG_PASSPHRASE_<ENV>",
    ]) {
      assert.ok(USAGE.includes(text), text);
    }
  });
});

/**
 * The one convention (model/cli.ts), checked on the commands as processes: the exit code each
 * really returns, not what its help says. local runs only as far as --help and a bad flag: a run
 * starts the engine build.
 */
describe("every command's convention (as processes)", function () {
  this.timeout(120_000);
  const node24 = path.join(REPO, "node_modules", ".bin", "node");
  const commands: Record<string, string[]> = {
    // As `npm run verify` runs it (tools/build/register.cjs), read from package.json.
    verify: npmScriptCommand(REPO, "verify"),
    smoke: [node24, "smoke/bin.mjs"],
    promote: [process.execPath, "-r", "ts-node/register/transpile-only", "tools/promote.ts"],
    local: [process.execPath, "-r", "ts-node/register/transpile-only", "tools/local.ts"],
    "policy-config": [
      process.execPath,
      "-r",
      "ts-node/register/transpile-only",
      "tools/promote/policy-config.ts",
    ],
  };
  function runCommand(name: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    const [bin, ...pre] = commands[name]!;
    return spawnSync(bin!, [...pre, ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...env },
      encoding: "utf8",
      input: "",
    });
  }

  it("no crash shares a code with a verdict", () => {
    const verdicts = [EXIT.ok, EXIT.failed, EXIT.notApproved];
    const codes = Object.values(EXIT);
    assert.equal(new Set(codes).size, codes.length, "each code means one thing");
    assert.ok(!verdicts.includes(EXIT.internal as never));
  });

  for (const name of Object.keys(commands)) {
    it(`${name}: --help starts "Usage: npm run", ends with the shared table, exits ${EXIT.ok}`, () => {
      const run = runCommand(name, ["--help"]);
      assert.equal(run.status, EXIT.ok, run.stderr);
      assert.match(run.stdout, /^Usage: (npm run |npx )/);
      // One layout: the usage line, what it does, then "Options:" with --help among them.
      assert.match(run.stdout, /^Usage: .*\n\n\S.*\n(?:.*\n)*?\nOptions:\n/);
      assert.match(run.stdout, /^ {2}--help, -h +show this help$/m);
      assert.ok(run.stdout.trimEnd().endsWith(EXIT_CODES_HELP), run.stdout);
    });

    it(`${name}: an unknown flag is one line on stderr and exit ${EXIT.usage}`, () => {
      const run = runCommand(name, ["--no-such-flag"]);
      assert.equal(run.status, EXIT.usage, run.stderr);
      const lines = run.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0] ?? "", /no-such-flag/);
    });
  }

  it(`a crash is one line on stderr, no stack trace, exit ${EXIT.internal} (runAsProcess, as a process)`, () => {
    // Every command's entry point is model/cli.ts's runAsProcess; a main that throws stands for
    // a defect anywhere below it.
    const crash = (crashLines: string) =>
      spawnSync(
        process.execPath,
        [
          "-r",
          "ts-node/register/transpile-only",
          "-e",
          `require("./model/cli").runAsProcess("demo", async () => { throw new Error("boom\\n    at somewhere (x.ts:1:1)"); }${crashLines})`,
        ],
        { cwd: REPO, encoding: "utf8" },
      );
    const plain = crash("");
    assert.equal(plain.status, EXIT.internal, plain.stderr);
    assert.equal(plain.stderr, "demo: internal error: boom\n");
    assert.equal(plain.stdout, "");
    const verifyStyle = crash(
      ', { crashLines: require("./tools/verify").internalFailure, exitWhenDone: true }',
    );
    assert.equal(verifyStyle.status, EXIT.internal, verifyStyle.stderr);
    assert.equal(verifyStyle.stderr, "verify failed: boom\n");
  });

  it(`a reader that closes the pipe early stops the command quietly: no stack trace, exit ${EXIT.internal}`, async () => {
    // The output is written after the reader has gone (`| head` that already exited), and main
    // then returns ok: what was not delivered is no verdict.
    const child = spawn(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        "-e",
        `require("./model/cli").runAsProcess("demo", async () => { await new Promise((r) => setTimeout(r, 500)); process.stdout.write("x".repeat(1 << 17)); await new Promise((r) => setTimeout(r, 200)); return 0; })`,
      ],
      { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(stderr, "", "no stack trace, no message");
    assert.equal(status, EXIT.internal);
  });

  it(`smoke: a failed check exits ${EXIT.failed}`, () => {
    const run = runCommand("smoke", ["http://127.0.0.1:1", "--deadline", "0.5"]);
    assert.equal(run.status, EXIT.failed, run.stdout + run.stderr);
  });
});

describe("promote prerequisites", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "promote-path-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("finds an executable on PATH and ignores a file that is not executable", () => {
    const bin = path.join(dir, "pulumi");
    writeFileSync(bin, "#!/bin/sh\n");
    chmodSync(bin, 0o644);
    assert.equal(findOnPath("pulumi", { PATH: dir }), undefined);
    chmodSync(bin, 0o755);
    assert.equal(findOnPath("pulumi", { PATH: `/nonexistent${path.delimiter}${dir}` }), bin);
    assert.equal(findOnPath("pulumi", {}), undefined);
  });

  it("takes the backend as Pulumi does: PULUMI_BACKEND_URL, else Pulumi.yaml, else pulumi login", () => {
    const project = "name: env-progression\nbackend:\n  url: file://./.pulumi\n";
    assert.deepEqual(resolveBackend(project, {}), {
      url: "file://./.pulumi",
      source: "Pulumi.yaml",
    });
    assert.deepEqual(resolveBackend(project, { PULUMI_BACKEND_URL: "s3://state/ep" }), {
      url: "s3://state/ep",
      source: "PULUMI_BACKEND_URL",
    });
    assert.deepEqual(resolveBackend(project, { PULUMI_BACKEND_URL: "  " }), {
      url: "file://./.pulumi",
      source: "Pulumi.yaml",
    });
    assert.deepEqual(resolveBackend("name: x\n", {}), { source: "pulumi login" });
    assert.deepEqual(resolveBackend(undefined, {}), { source: "pulumi login" });
  });

  it("the committed Pulumi.yaml names a file backend inside the repository", () => {
    const backend = resolveBackend(readProjectFile(REPO, "Pulumi.yaml"), {});
    assert.equal(backend.source, "Pulumi.yaml");
    assert.equal(fileBackendDir(backend.url!, REPO), path.join(REPO, ".pulumi"));
  });

  it("finds a file backend's directory, relative to the project or home", () => {
    assert.equal(fileBackendDir("file://./.pulumi", "/repo"), "/repo/.pulumi");
    assert.equal(fileBackendDir("file:///var/state", "/repo"), "/var/state");
    assert.equal(
      fileBackendDir("file://~/.pulumi-state", "/repo", "/home/me"),
      "/home/me/.pulumi-state",
    );
    assert.equal(fileBackendDir("s3://bucket", "/repo"), undefined);
  });

  it("gives each stack its own passphrase and kubeconfig when set per environment", () => {
    const environ = {
      PULUMI_CONFIG_PASSPHRASE: "shared",
      PULUMI_CONFIG_PASSPHRASE_PROD: "prod-only",
      KUBECONFIG_PROD: "/k/prod",
    };
    assert.deepEqual(stackVariables("prod", environ), {
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_CONFIG_PASSPHRASE: "prod-only",
      KUBECONFIG: "/k/prod",
    });
    // dev has none of its own: the process's PULUMI_CONFIG_PASSPHRASE and kube context apply.
    assert.deepEqual(stackVariables("dev", environ), { PULUMI_SKIP_UPDATE_CHECK: "true" });
  });

  it("names every passphrase stack that has no passphrase", () => {
    const files = {
      dev: "config: {}\n",
      staging: "secretsprovider: awskms://alias/staging\nconfig: {}\n",
      prod: "encryptionsalt: v1:abc\nconfig: {}\n",
    } as const;
    const read = (env: keyof typeof files) => files[env];
    const file = { url: "file://./.pulumi", source: "Pulumi.yaml" } as const;
    const cloud = { url: "https://api.pulumi.com", source: "PULUMI_BACKEND_URL" } as const;
    const all = ["dev", "staging", "prod"] as const;
    assert.deepEqual(missingPassphrases(all, read, file, {}), ["dev", "prod"]);
    // On Pulumi Cloud a stack that names no provider uses the service's; a salt still means passphrase.
    assert.deepEqual(missingPassphrases(all, read, cloud, {}), ["prod"]);
    assert.deepEqual(missingPassphrases(all, read, file, { PULUMI_CONFIG_PASSPHRASE_DEV: "" }), [
      "prod",
    ]);
    assert.deepEqual(
      missingPassphrases(["dev", "prod"], read, file, { PULUMI_CONFIG_PASSPHRASE_FILE: "/p" }),
      [],
    );
    assert.deepEqual(
      missingPassphrases(["dev", "prod"], read, file, { PULUMI_CONFIG_PASSPHRASE: "x" }),
      [],
    );
  });

  it("names each problem of Pulumi.yaml and the stack files once, before anything runs", () => {
    assert.deepEqual(stackFileProblems(REPO, ["dev", "staging", "prod"]), []);
    const dir = mkdtempSync(path.join(os.tmpdir(), "promote-stack-files-"));
    try {
      writeFileSync(path.join(dir, "Pulumi.yaml"), "name: env-progression\nruntime: nodejs\n");
      writeFileSync(
        path.join(dir, "Pulumi.dev.yaml"),
        "config:\n  env-progression:replicas: '1'\n",
      );
      assert.deepEqual(stackFileProblems(dir, ["dev", "staging"]), [
        `Pulumi.staging.yaml: cannot be read (ENOENT); expected the file at ${path.join(dir, "Pulumi.staging.yaml")}`,
      ]);
      // A Pulumi.yaml that is not YAML is one problem, not one per stack, and ends with its place.
      writeFileSync(path.join(dir, "Pulumi.yaml"), "name: env-progression\nruntime: [nodejs\n");
      const problems = stackFileProblems(dir, ["dev", "staging"]);
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.match(problems[0]!, /^Pulumi\.yaml: is not valid YAML: .* at line \d+, column \d+$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads the secrets provider from the stack file, else from the backend's default", () => {
    assert.equal(usesPassphrase(undefined, true), true);
    assert.equal(usesPassphrase(undefined, false), false);
    assert.equal(usesPassphrase(": not yaml : [", true), true);
    assert.equal(usesPassphrase("secretsprovider: passphrase\n", false), true);
    assert.equal(
      usesPassphrase(
        "secretsprovider: gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k\n",
        true,
      ),
      false,
    );
    assert.equal(usesPassphrase("encryptionsalt: v1:x\n", false), true);
  });
});

describe("promote output", () => {
  it("prints one line per step, failure and rollback", () => {
    const release = { version: "1.2.0", image: "app@sha256:" + "a".repeat(64), commit: "abc" };
    assert.equal(
      formatEvent({ kind: "start", envs: ["dev", "staging"], preview: false }),
      "promote: dev → staging",
    );
    assert.equal(
      formatEvent({ kind: "running", env: "dev", step: "up" }),
      "[dev] deploying (pulumi up; the smoke tests run inside it)…",
    );
    assert.equal(formatEvent({ kind: "running", env: "dev", step: "outputs" }), undefined);
    assert.equal(
      formatEvent({
        kind: "failed",
        env: "staging",
        step: "smoke",
        reason: "smoke tests failed: health",
      }),
      "[staging] FAILED at smoke: smoke tests failed: health",
    );
    assert.equal(
      formatEvent({ kind: "rollback", env: "staging", outcome: "done", release }),
      `[staging] rolled back to 1.2.0 (${release.image}); its smoke tests passed`,
    );
    assert.equal(
      formatEvent({ kind: "rollback", env: "dev", outcome: "failed", reason: "up: locked" }),
      "[dev] ROLLBACK FAILED: up: locked",
    );
  });

  it("accepts only an explicit yes at the prod prompt", () => {
    for (const yes of ["y", "yes", " YES ", "Y"]) assert.equal(isYes(yes), true, yes);
    for (const no of ["", "n", "no", "yes please", "sure"]) assert.equal(isYes(no), false, no);
  });

  it("summarizes changes the way pulumi does", () => {
    assert.equal(
      describeChanges({ create: 2, update: 1, same: 9 }, "preview"),
      "2 to create, 1 to update, 9 unchanged",
    );
    assert.equal(describeChanges({ replace: 1, same: 3 }, "up"), "1 replaced, 3 unchanged");
    assert.equal(describeChanges({}, "up"), "no changes");
  });

  it("shows finished resource steps and advisory policy findings as progress", () => {
    const urn = "urn:pulumi:dev::env-progression::kubernetes:core/v1:Namespace::dev-namespace";
    const base = { sequence: 1, timestamp: 1 };
    const metadata = {
      op: "create" as const,
      urn,
      type: "kubernetes:core/v1:Namespace",
      provider: "",
    };
    assert.equal(
      progressLine({ ...base, resOutputsEvent: { metadata } }),
      "create kubernetes:core/v1:Namespace dev-namespace",
    );
    assert.equal(
      progressLine({ ...base, resOutputsEvent: { metadata: { ...metadata, op: "same" } } }),
      undefined,
    );
    assert.equal(
      progressLine({
        ...base,
        policyEvent: {
          message: "no limits",
          color: "never",
          policyName: "missing-resource-limits",
          policyPackName: "p",
          policyPackVersion: "1",
          policyPackVersionTag: "1",
          enforcementLevel: "warning",
          resourceUrn: urn,
        },
      }),
      "policy warning missing-resource-limits (dev-namespace): no limits",
    );
  });
});

describe("policy-config", () => {
  it("reads a baseline from a job output and refuses an empty or non-JSON one", () => {
    assert.deepEqual(parseBaseline(' {"image":"x"}\n'), { image: "x" });
    assert.throws(() => parseBaseline("  "), /empty/);
    assert.throws(() => parseBaseline("[secret]"), /not JSON/);
    assert.throws(() => parseBaseline('"[secret]"'), /parityBaseline is a secret output/);
  });

  it("reads repeated --older files and --help; refuses anything else as bad usage", () => {
    assert.deepEqual(parsePolicyConfigArgs([]), { kind: "run", older: [] });
    assert.deepEqual(parsePolicyConfigArgs(["--older", "a.json", "--older=b.json"]), {
      kind: "run",
      older: ["a.json", "b.json"],
    });
    assert.deepEqual(parsePolicyConfigArgs(["-h"]), { kind: "help" });
    for (const argv of [["--older"], ["--older="], ["--older", "--help"], ["x"], ["--below"]])
      assert.throws(() => parsePolicyConfigArgs(argv), PolicyConfigUsageError, argv.join(" "));
  });

  /** As the workflows run it: the baseline of the stack below on stdin, the document on stdout. */
  function policyConfig(args: string[], input: string) {
    return spawnSync(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "tools/promote/policy-config.ts", ...args],
      { cwd: REPO, input, encoding: "utf8" },
    );
  }

  // Real baselines: what the program exports for dev and staging (policy-config checks them).
  const dev = { parityBaseline: undefined as unknown };
  const staging = { parityBaseline: undefined as unknown };
  let dir: string;
  before(async function () {
    this.timeout(120_000);
    for (const [stack, into] of [
      ["dev", dev],
      ["staging", staging],
    ] as const) {
      const ev = await evaluateStack(stack);
      if (ev.error) throw ev.error;
      into.parityBaseline = ev.outputs.parityBaseline;
    }
    dir = mkdtempSync(path.join(os.tmpdir(), "policy-config-"));
    writeFileSync(path.join(dir, "dev.json"), JSON.stringify(dev.parityBaseline));
    writeFileSync(path.join(dir, "secret.json"), '"[secret]"\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("as a process", function () {
    this.timeout(60_000);

    it("writes the same document as model/baseline.ts when run as the workflows run it", () => {
      const run = policyConfig([], JSON.stringify(dev.parityBaseline));
      assert.equal(run.status, 0, run.stderr);
      const config = JSON.parse(run.stdout) as PolicyPackConfig;
      assert.deepEqual(config, policyPackConfig(dev.parityBaseline));
      assert.equal(config["disallow-lower-environment-secrets"]?.lowerBaselines, undefined);
    });

    it("gives the secret policy, and only it, the --older baselines (prod: dev's)", () => {
      const run = policyConfig(
        ["--older", path.join(dir, "dev.json")],
        JSON.stringify(staging.parityBaseline),
      );
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stderr, "");
      const config = JSON.parse(run.stdout) as PolicyPackConfig;
      assert.deepEqual(config, policyPackConfig(staging.parityBaseline, [dev.parityBaseline]));
      assert.deepEqual(config["disallow-lower-environment-secrets"], {
        baseline: staging.parityBaseline,
        lowerBaselines: [dev.parityBaseline],
      });
      assert.deepEqual(config["enforce-environment-parity"], {
        baseline: staging.parityBaseline,
      });
    });

    it("--help prints the usage and exits 0", () => {
      const run = policyConfig(["--help"], "");
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout, `${USAGE_POLICY_CONFIG}\n`);
      assert.match(
        run.stdout,
        /^Usage: .*tools\/promote\/policy-config\.ts \[--older FILE\]\.\.\. < BELOW/,
      );
      assert.ok(run.stdout.trimEnd().endsWith(EXIT_CODES_HELP), run.stdout);
    });

    const bad: [string, string[], string, RegExp][] = [
      ["an empty baseline", [], "\n", /^stdin: the baseline is empty/],
      ["a baseline that is not JSON", [], "parityBaseline: {", /^stdin: the baseline is not JSON/],
      ["[secret] unquoted", [], "[secret]", /^stdin: the baseline is not JSON/],
      ["a secret output", [], '"[secret]"', /^stdin: parityBaseline is a secret output/],
      [
        "null",
        [],
        "null",
        /^stdin: not a parityBaseline: baseline .*; expected `pulumi stack output/,
      ],
      ["an empty object", [], "{}", /^stdin: not a parityBaseline: baseline\.kind .*/],
      [
        "an --older file that does not exist",
        ["--older", "missing.json"],
        "{}",
        /^--older .*missing\.json: cannot read it \(no such file\)$/,
      ],
      [
        "an --older file holding a secret output",
        ["--older", "secret.json"],
        "{}",
        /^--older .*secret\.json: parityBaseline is a secret output/,
      ],
      ["an unknown option", ["--below", "x.json"], "{}", /^unknown option --below \(see --help\)$/],
      ["--older without a file", ["--older"], "{}", /^--older needs a value: .* \(see --help\)$/],
    ];
    for (const [what, args, input, message] of bad) {
      it(`refuses ${what}: one line on stderr, exit 2, nothing on stdout`, () => {
        const run = policyConfig(
          args.map((a) => (a.endsWith(".json") ? path.join(dir, a) : a)),
          input,
        );
        assert.equal(run.status, EXIT.usage, run.stderr);
        assert.equal(run.stdout, "");
        assert.match(run.stderr, /^policy-config: [^\n]+\n$/);
        assert.match(run.stderr.slice("policy-config: ".length).trimEnd(), message);
      });
    }
  });
});

/** The CLI as a process: exit codes and the exact lines a user sees. */
describe("npm run promote (as a process)", function () {
  this.timeout(60_000);
  let emptyPath: string;
  before(() => {
    emptyPath = mkdtempSync(path.join(os.tmpdir(), "promote-nopath-"));
  });
  after(() => rmSync(emptyPath, { recursive: true, force: true }));

  function promoteProcess(args: string[], env: NodeJS.ProcessEnv) {
    return spawnSync(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "tools/promote.ts", ...args],
      {
        cwd: REPO,
        env: { HOME: os.tmpdir(), ...env },
        encoding: "utf8",
        input: "",
      },
    );
  }

  it("--help prints the usage and exits 0", () => {
    const run = promoteProcess(["--help"], { PATH: emptyPath });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(
      run.stdout.startsWith(
        "Usage: npm run promote -- [--to dev|staging|prod] [--preview] [--yes]",
      ),
    );
  });

  it("bad usage: one line on stderr, exit 2, no stack trace", () => {
    const run = promoteProcess(["--to", "qa"], { PATH: emptyPath });
    assert.equal(run.status, EXIT.usage);
    assert.equal(
      run.stderr,
      'promote: --to must be one of dev, staging, prod, not "qa" (see --help)\n',
    );
    assert.equal(run.stdout, "");
  });

  it("without the pulumi CLI on PATH: says so in one line with how to install it, exit 3", () => {
    const run = promoteProcess(["--to", "dev"], { PATH: emptyPath });
    assert.equal(run.status, EXIT.prerequisite);
    const lines = run.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, run.stderr);
    assert.match(
      lines[0] ?? "",
      new RegExp(
        "^promote: the pulumi CLI is not on PATH; install it with `curl -fsSL https://get\\.pulumi\\.com \\| sh -s -- --version " +
          // the SDK's version, as docs/deploy.md installs it
          (require("@pulumi/pulumi/package.json") as { version: string }).version.replaceAll(
            ".",
            "\\.",
          ) +
          "` \\(the version of @pulumi/pulumi in package\\.json\\)",
      ),
    );
    assert.equal(run.stdout, "");
  });

  it("a stack the CLI cannot select: the CLI's own error line, not the Automation API's dump", () => {
    const bin = mkdtempSync(path.join(os.tmpdir(), "promote-brokenbackend-"));
    try {
      // A pulumi whose backend is broken: it knows its version, and fails everything else.
      writeFileSync(
        path.join(bin, "pulumi"),
        '#!/bin/sh\n[ "$1" = version ] && { echo v3.276.0; exit 0; }\n' +
          "echo 'error: failed to load checkpoint: the backend is broken' >&2\nexit 255\n",
        { mode: 0o755 },
      );
      const run = promoteProcess(["--preview", "--to", "dev"], {
        PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
        PULUMI_CONFIG_PASSPHRASE: "not-used-here",
      });
      const out = run.stdout + run.stderr;
      assert.equal(run.status, EXIT.failed, out);
      assert.match(
        out,
        /^\[dev\] FAILED at preview: pulumi stack select dev failed: error: failed to load checkpoint: the backend is broken$/m,
      );
      assert.doesNotMatch(out, /stdout:|stderr:|err\?:|code: -?\d/);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("with pulumi but no passphrase: names the stacks before touching any, exit 3", () => {
    const bin = mkdtempSync(path.join(os.tmpdir(), "promote-fakepulumi-"));
    try {
      // A pulumi that fails if anything runs it: the check must come before any pulumi command.
      writeFileSync(
        path.join(bin, "pulumi"),
        "#!/bin/sh\necho 'pulumi must not run' >&2\nexit 99\n",
        { mode: 0o755 },
      );
      const run = promoteProcess(["--to", "staging"], { PATH: bin });
      assert.equal(run.status, EXIT.prerequisite, run.stderr);
      assert.equal(
        run.stderr,
        "promote: no passphrase for stacks dev, staging: set PULUMI_CONFIG_PASSPHRASE_DEV (one per stack) or PULUMI_CONFIG_PASSPHRASE (all stacks)\n",
      );
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
