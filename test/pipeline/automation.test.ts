/**
 * The contract between AutomationRunner (tools/promote/automation.ts) and the pulumi CLI, as the
 * real `@pulumi/pulumi/automation` code drives it: which commands run, for which stack, with
 * which flags and variables, and what the runner makes of what comes back.
 *
 * The `pulumi` here is a stand-in put first on PATH (as in cli.test.ts's "a stack the CLI cannot
 * select"): it records each invocation (argv, cwd, the PULUMI_* and KUBECONFIG* variables, and a
 * copy of the --policy-pack-config file as it was at call time) and answers from rules each test
 * writes. It runs no program, engine or policy pack, so this proves the wiring, not Pulumi:
 * test/e2e/promote.test.ts runs the real CLI.
 *
 * Engine events reach the Automation API the way the CLI sends them: to its gRPC Events service
 * (`--event-log tcp://…`) for a CLI newer than 3.205.0, like the 3.276.0 docs/deploy.md installs,
 * and as JSON lines in an `--event-log` file for an older one.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { policyPackConfig } from "../../model/baseline";
import type { EnvName } from "../../model/environment";
import { SMOKE_COMPONENT_TYPE, SMOKE_RUN_TYPE, smokeFailureLine } from "../../model/smoke";
import { PROJECT } from "../../model/config/environmentConfig";
import { urnType } from "../../model/urn";
import { AutomationRunner } from "../../tools/promote/automation";
import type { OperationResult } from "../../tools/promote/ports";

import { REPO_ROOT as REPO } from "../../model/paths";
const POLICIES = path.join(REPO, "policies");
/** The generated gRPC code the Automation API serves engine events with. */
const PROTO = path.dirname(require.resolve("@pulumi/pulumi/proto/events_grpc_pb.js"));
/** The CLI version docs/deploy.md installs (events over gRPC), and the last one writing a file. */
const CLI_VERSION = "v3.276.0";
const FILE_EVENT_LOG_VERSION = "v3.205.0";

// Canaries, set in this process's environment as a user sets them for `npm run promote` (which
// builds the runner without `environ`, so it reads process.env). dev has no passphrase of its
// own: the shared PULUMI_CONFIG_PASSPHRASE is dev's.
const PASSPHRASE: Record<EnvName, string> = {
  dev: "canary-passphrase-shared-0b27",
  staging: "canary-passphrase-staging-5d1e",
  prod: "canary-passphrase-prod-a93c",
};
const KUBECONFIG: Record<EnvName, string> = {
  dev: "/canary/kube/dev-41f0.yaml",
  staging: "/canary/kube/staging-7c22.yaml",
  prod: "/canary/kube/prod-e815.yaml",
};
const VARIABLES: Record<string, string | undefined> = {
  PULUMI_CONFIG_PASSPHRASE: PASSPHRASE.dev,
  PULUMI_CONFIG_PASSPHRASE_FILE: undefined,
  PULUMI_CONFIG_PASSPHRASE_DEV: undefined,
  PULUMI_CONFIG_PASSPHRASE_STAGING: PASSPHRASE.staging,
  PULUMI_CONFIG_PASSPHRASE_PROD: PASSPHRASE.prod,
  KUBECONFIG: undefined,
  KUBECONFIG_DEV: KUBECONFIG.dev,
  KUBECONFIG_STAGING: KUBECONFIG.staging,
  KUBECONFIG_PROD: KUBECONFIG.prod,
  // The version check is part of the contract: keep it on.
  PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: undefined,
};
const CANARIES = [...Object.values(PASSPHRASE), ...Object.values(KUBECONFIG)];

type Event = Omit<EngineEvent, "sequence" | "timestamp">;

/** How the stand-in answers the first invocation whose argv holds every `when` token. */
interface Rule {
  when: string[];
  stack?: EnvName;
  stdout?: string;
  stderr?: string;
  code?: number;
  events?: Event[];
}

interface Call {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  policyPackConfig?: { text: string; mode: number };
}

/** The stand-in itself: CommonJS run by this Node, paths baked in. */
function standInSource(calls: string, rules: string): string {
  return `"use strict";
// A STAND-IN for the pulumi CLI (test/pipeline/automation.test.ts). It records how it was run and
// answers from the test's rules; it runs no program, engine or policy pack.
const fs = require("node:fs");
const CALLS = ${JSON.stringify(calls)}, RULES = ${JSON.stringify(rules)}, PROTO = ${JSON.stringify(PROTO)};
const argv = process.argv.slice(2);
const flag = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => /^(PULUMI_|KUBECONFIG)/.test(k)),
);
const call = { argv, cwd: process.cwd(), env };
const configFile = flag("--policy-pack-config");
if (configFile) {
  call.policyPackConfig = {
    text: fs.readFileSync(configFile, "utf8"),
    mode: fs.statSync(configFile).mode & 0o777,
  };
}
fs.appendFileSync(CALLS, JSON.stringify(call) + "\\n");

const rule = JSON.parse(fs.readFileSync(RULES, "utf8")).find(
  (r) => r.when.every((t) => argv.includes(t)) && (!r.stack || flag("--stack") === r.stack),
);
const answer = rule ?? { code: 99, stderr: "error: the stand-in has no answer for: " + argv.join(" ") + "\\n" };
const events = (answer.events ?? []).map((e, i) => ({ sequence: i + 1, timestamp: 1700000000 + i, ...e }));
function finish() {
  process.stdout.write(answer.stdout ?? "");
  process.stderr.write(answer.stderr ?? "");
  process.exitCode = answer.code ?? 0;
}
const log = flag("--event-log");
if (log && log.startsWith("tcp://")) {
  const grpc = require(require.resolve("@grpc/grpc-js", { paths: [PROTO] }));
  const { EventsClient } = require(PROTO + "/events_grpc_pb.js");
  const { EventRequest } = require(PROTO + "/events_pb.js");
  const client = new EventsClient(log.slice("tcp://".length), grpc.credentials.createInsecure());
  const stream = client.streamEvents((err) => {
    client.close();
    if (err) {
      process.stderr.write("error: the stand-in could not stream events: " + err.message + "\\n");
      process.exitCode = 98;
    } else finish();
  });
  for (const e of events) stream.write(new EventRequest().setEvent(JSON.stringify(e)));
  stream.end();
} else {
  if (log) for (const e of events) fs.appendFileSync(log, JSON.stringify(e) + "\\n");
  finish();
}
`;
}

function flagValue(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
}

/** The command words before the first flag: `up`, `stack select`, `config get <key>`. */
function commandOf(call: Call): string {
  const end = call.argv.findIndex((a) => a.startsWith("-"));
  return call.argv.slice(0, end < 0 ? undefined : end).join(" ");
}

const STACK_URN = "urn:pulumi:prod::env-progression::pulumi:pulumi:Stack::env-progression-prod";
function urn(env: EnvName, typeChain: string, name: string): string {
  return `urn:pulumi:${env}::env-progression::${typeChain}::${name}`;
}
/** The smoke test's dynamic resource, the one whose failure fails an up. */
function smokeRunUrn(env: EnvName): string {
  return urn(env, `${SMOKE_COMPONENT_TYPE}$${SMOKE_RUN_TYPE}`, `${env}-smoke-run`);
}
function step(
  op: "create" | "update" | "same" | "replace" | "delete",
  urnText: string,
): { metadata: NonNullable<EngineEvent["resOutputsEvent"]>["metadata"] } {
  const type = urnType(urnText);
  return { metadata: { op, urn: urnText, type, provider: "" } };
}
function policy(
  level: "mandatory" | "warning",
  policyName: string,
  message: string,
  resourceUrn?: string,
): Event {
  return {
    policyEvent: {
      ...(resourceUrn ? { resourceUrn } : {}),
      message,
      color: "never",
      policyName,
      policyPackName: "env-progression",
      policyPackVersion: "0.1.0",
      policyPackVersionTag: "0.1.0",
      enforcementLevel: level,
    },
  };
}
function diagnostic(message: string, urnText?: string): Event {
  return {
    diagnosticEvent: {
      ...(urnText ? { urn: urnText } : {}),
      prefix: "error: ",
      message,
      color: "never",
      severity: "error",
    },
  };
}
function summary(resourceChanges: Record<string, number>): Event {
  return {
    summaryEvent: { maybeCorrupt: false, durationSeconds: 3, resourceChanges, policyPacks: {} },
  };
}
/** `pulumi stack history --json` for the update that just ran. */
function history(resourceChanges: Record<string, number>): string {
  return JSON.stringify([
    {
      version: 7,
      kind: "update",
      startTime: "2025-01-01T00:00:00.000Z",
      endTime: "2025-01-01T00:00:30.000Z",
      message: "",
      environment: {},
      config: {},
      result: "succeeded",
      resourceChanges,
    },
  ]);
}

describe("AutomationRunner against a recording stand-in pulumi (the CLI itself is not run)", function () {
  // Each operation is a few processes of the stand-in; the first load of @pulumi/pulumi is slow.
  this.timeout(20_000);

  let bin: string;
  let callsFile: string;
  let rulesFile: string;
  const saved: Record<string, string | undefined> = {};
  let runner: AutomationRunner;
  let progress: { env: EnvName; message: string }[];
  /** Every progress line and failure reason of the suite, for the canary check at the end. */
  const reported: string[] = [];

  before(() => {
    bin = mkdtempSync(path.join(os.tmpdir(), "automation-standin-"));
    callsFile = path.join(bin, "calls.jsonl");
    rulesFile = path.join(bin, "rules.json");
    const script = path.join(bin, "pulumi.cjs");
    writeFileSync(script, standInSource(callsFile, rulesFile));
    writeFileSync(
      path.join(bin, "pulumi"),
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} "$@"\n`,
      { mode: 0o755 },
    );
    for (const [name, value] of Object.entries({
      ...VARIABLES,
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
    })) {
      saved[name] = process.env[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  after(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(bin, { recursive: true, force: true });
  });

  beforeEach(() => {
    writeFileSync(callsFile, "");
    answer();
    progress = [];
    // As tools/promote.ts builds it.
    runner = new AutomationRunner({
      workDir: REPO,
      policyPack: POLICIES,
      onProgress: (env, message) => {
        progress.push({ env, message });
        reported.push(message);
      },
    });
  });

  /** The stand-in's rules: these first, then a CLI whose stacks exist and have no outputs. */
  function answer(...rules: Rule[]): void {
    const cli = rules.some((r) => r.when[0] === "version") ? [] : [version(CLI_VERSION)];
    const base: Rule[] = [
      ...cli,
      { when: ["stack", "select"] },
      { when: ["stack", "output"], stdout: "{}\n" },
      { when: ["stack", "history"], stdout: history({ same: 12 }) },
    ];
    writeFileSync(rulesFile, JSON.stringify([...rules, ...base]));
  }
  function version(text: string): Rule {
    return { when: ["version"], stdout: `${text}\n` };
  }

  function calls(): Call[] {
    return readFileSync(callsFile, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Call);
  }
  function callsOf(command: string): Call[] {
    return calls().filter((c) => commandOf(c) === command);
  }
  function only<T>(items: T[], what: string): T {
    assert.equal(items.length, 1, `expected exactly one ${what}, got ${items.length}`);
    return items[0]!;
  }

  function failureOf(result: OperationResult) {
    assert.equal(result.ok, false, `expected a failure, got ${JSON.stringify(result)}`);
    if (result.ok) throw new Error("unreachable");
    reported.push(result.failure.reason);
    return result.failure;
  }

  /** The policy config file the operation was run with: its content then, and that it is gone. */
  function assertPolicyConfigFile(call: Call, expected: unknown): void {
    const file = flagValue(call.argv, "--policy-pack-config");
    assert.ok(file, `no --policy-pack-config in ${call.argv.join(" ")}`);
    assert.ok(call.policyPackConfig, "the stand-in could not read the config file at call time");
    assert.deepEqual(JSON.parse(call.policyPackConfig.text), expected);
    assert.equal(call.policyPackConfig.mode, 0o600, "the config file is readable by others");
    assert.equal(existsSync(file), false, `${file} is left behind`);
    assert.equal(existsSync(path.dirname(file)), false, `${path.dirname(file)} is left behind`);
  }

  /**
   * An up of `env` whose engine sends `events`, then fails it ("update failed", exit 255): its
   * failure, once it is checked that the up ran with `config` in a file removed afterwards.
   */
  async function failedUp(
    env: EnvName,
    config: ReturnType<typeof policyPackConfig>,
    events: Event[],
  ): Promise<ReturnType<typeof failureOf>> {
    answer({ when: ["up"], stack: env, events, code: 255, stderr: "error: update failed\n" });
    const failure = failureOf(await runner.up(env, { policyConfig: config }));
    assertPolicyConfigFile(only(callsOf("up"), "up"), config);
    return failure;
  }

  it("runs preview and up on the stack's own name, with the absolute policies/ and the config it was given, in a file removed afterwards", async () => {
    const config = policyPackConfig({ from: "dev", image: "ghcr.io/acme/app:1.3.0" });
    answer(
      { when: ["preview"], stack: "staging", events: [summary({ create: 1, update: 2, same: 9 })] },
      { when: ["up"], stack: "staging", events: [summary({ update: 2, same: 10 })] },
      { when: ["stack", "history"], stack: "staging", stdout: history({ update: 2, same: 10 }) },
    );

    // preview's summary comes from the summaryEvent over the event channel, up's from the
    // history entry the Automation API reads after the update.
    assert.deepEqual(await runner.preview("staging", { policyConfig: config }), {
      ok: true,
      summary: "1 to create, 2 to update, 9 unchanged",
    });
    assert.deepEqual(await runner.up("staging", { policyConfig: config }), {
      ok: true,
      summary: "2 updated, 10 unchanged",
    });

    assert.deepEqual(
      calls().map((c) => [commandOf(c), flagValue(c.argv, "--stack") ?? null]),
      [
        ["version", null],
        ["stack select", "staging"],
        ["preview", "staging"],
        ["up", "staging"],
        ["stack output", "staging"],
        ["stack output", "staging"],
        ["stack history", "staging"],
      ],
    );
    for (const kind of ["preview", "up"]) {
      const call = only(callsOf(kind), kind);
      assert.equal(call.cwd, REPO);
      const packs = call.argv.filter((_, i) => call.argv[i - 1] === "--policy-pack");
      assert.deepEqual(packs, [POLICIES]);
      assert.ok(path.isAbsolute(packs[0]!));
      assert.equal(flagValue(call.argv, "--color"), "never");
      assert.match(flagValue(call.argv, "--event-log") ?? "", /^tcp:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(call.argv.includes("--non-interactive"), call.argv.join(" "));
      assertPolicyConfigFile(call, config);
    }
    const up = only(callsOf("up"), "up");
    assert.ok(up.argv.includes("--yes") && up.argv.includes("--skip-preview"), up.argv.join(" "));
    // Two operations, two files: neither reuses the other's.
    assert.notEqual(
      flagValue(only(callsOf("preview"), "preview").argv, "--policy-pack-config"),
      flagValue(up.argv, "--policy-pack-config"),
    );
  });

  it("without a policy config (dev, a rollback): the pack still runs, with no --policy-pack-config", async () => {
    answer({ when: ["preview"], stack: "dev", events: [summary({ same: 12 })] });
    assert.deepEqual(await runner.preview("dev", {}), { ok: true, summary: "12 unchanged" });
    const call = only(callsOf("preview"), "preview");
    assert.equal(flagValue(call.argv, "--policy-pack"), POLICIES);
    assert.equal(call.argv.includes("--policy-pack-config"), false, call.argv.join(" "));
  });

  it("gives each stack's CLI processes that stack's passphrase and kubeconfig, and no other stack's", async () => {
    const config = policyPackConfig({ from: "dev", image: "ghcr.io/acme/app:1.3.0" });
    answer(
      { when: ["config", "get"], stdout: '{"value":"ghcr.io/acme/app:1.3.0","secret":false}\n' },
      { when: ["up"], events: [summary({ same: 12 })] },
      { when: ["preview"], events: [summary({ same: 12 })] },
      { when: ["config", "set"] },
      { when: ["config", "rm"] },
    );
    for (const env of ["dev", "staging", "prod"] as const) {
      assert.equal((await runner.preview(env, { policyConfig: config })).ok, true);
      assert.equal((await runner.up(env, { policyConfig: config })).ok, true);
      await runner.getConfig(env, "env-progression:image");
      await runner.setConfig(env, "env-progression:image", "ghcr.io/acme/app:1.3.0");
      await runner.removeConfig(env, "env-progression:version");
    }

    const all = calls();
    for (const env of ["dev", "staging", "prod"] as const) {
      const mine = all.filter((c) => flagValue(c.argv, "--stack") === env);
      // preview; up, 2 stack output, history; config get, set, rm; and the stack select.
      assert.equal(mine.length, 9, `${env}: ${mine.map(commandOf).join(", ")}`);
      for (const call of mine) {
        const what = `${env}: pulumi ${commandOf(call)}`;
        assert.equal(call.env.PULUMI_CONFIG_PASSPHRASE, PASSPHRASE[env], what);
        assert.equal(call.env.KUBECONFIG, KUBECONFIG[env], what);
        assert.equal(call.env.PULUMI_SKIP_UPDATE_CHECK, "true", what);
        for (const [name, value] of Object.entries(call.env)) {
          for (const other of ["dev", "staging", "prod"] as const) {
            if (other === env) continue;
            for (const canary of [PASSPHRASE[other], KUBECONFIG[other]]) {
              assert.ok(!value.includes(canary), `${what}: ${name} holds ${other}'s ${canary}`);
            }
          }
        }
      }
    }
    // Only `pulumi version` runs without a stack: once per stack's workspace, before any select.
    // The Automation API runs it with this process's environment and nothing of the runner's, so
    // it sees every stack's variables; it runs no program.
    const stackless = all.filter((c) => flagValue(c.argv, "--stack") === undefined);
    assert.deepEqual(stackless.map(commandOf), ["version", "version", "version"]);
  });

  it("turns the engine events of an up into progress lines, and a mandatory policy violation into a policy failure", async () => {
    const config = policyPackConfig({ from: "staging", image: "ghcr.io/acme/app@sha256:ab" });
    const deployment = urn(
      "prod",
      "env-progression:workload:Workload$kubernetes:apps/v1:Deployment",
      "prod-app",
    );
    const configMap = urn("prod", "kubernetes:core/v1:ConfigMap", "prod-flags");
    const namespace = urn("prod", "kubernetes:core/v1:Namespace", "prod-namespace");
    const failure = await failedUp("prod", config, [
      { preludeEvent: { config: {} } },
      { resourcePreEvent: step("create", deployment) },
      { resOutputsEvent: step("same", namespace) },
      { resOutputsEvent: step("update", configMap) },
      { resOutputsEvent: step("create", deployment) },
      policy(
        "warning",
        "resource-limits",
        "<{%fg 3%}>no memory limit\n  on init container",
        deployment,
      ),
      policy(
        "mandatory",
        "feature-flag-parity",
        "flag newCheckout differs from staging",
        configMap,
      ),
      policy("mandatory", "disallow-lower-environment-secrets", "dbPassword is staging's"),
      diagnostic("update failed"),
      { resOutputsEvent: step("update", STACK_URN) },
      summary({ create: 1, update: 1, same: 10 }),
    ]);
    assert.deepEqual(failure, {
      step: "policy",
      reason:
        "feature-flag-parity (prod-flags): flag newCheckout differs from staging (and 1 more violation(s))",
    });
    assert.deepEqual(progress, [
      { env: "prod", message: "update kubernetes:core/v1:ConfigMap prod-flags" },
      { env: "prod", message: "create kubernetes:apps/v1:Deployment prod-app" },
      {
        env: "prod",
        message: "policy warning resource-limits (prod-app): no memory limit | on init container",
      },
    ]);
    // A failed up reads no outputs or history, and still removes its config file (failedUp).
    assert.deepEqual(calls().map(commandOf), ["version", "stack select", "up"]);
  });

  it("a smoke test's error in an up is a smoke failure with the smoke line, not the engine's 'update failed'", async () => {
    const config = policyPackConfig({ from: "dev", image: "ghcr.io/acme/app:1.3.0" });
    const smoke = smokeRunUrn("staging");
    const deployment = urn("staging", "kubernetes:apps/v1:Deployment", "staging-app");
    const failure = await failedUp("staging", config, [
      { resOutputsEvent: step("update", deployment) },
      { resourcePreEvent: step("create", smoke) },
      diagnostic(
        `error: ${smokeFailureLine({ baseUrl: "http://staging.example.com", failed: ["health"], total: 4 }, " in 30.0 s")}\n  ✗ health: GET http://staging.example.com/healthz\n      got:      503\n    at check (smoke/run.ts:40:11)`,
        smoke,
      ),
      { resOpFailedEvent: { ...step("create", smoke), status: 1, steps: 1 } },
      diagnostic("update failed"),
    ]);
    assert.deepEqual(failure, {
      step: "smoke",
      reason: "1 of 4 checks failed (health) against http://staging.example.com",
      smoke: { baseUrl: "http://staging.example.com", failed: ["health"], total: 4 },
    });
    assert.deepEqual(progress, [
      { env: "staging", message: "update kubernetes:apps/v1:Deployment staging-app" },
    ]);
  });

  it("a preview that fails before any engine event fails at preview with the CLI's own error line", async () => {
    const config = policyPackConfig({ from: "dev", image: "ghcr.io/acme/app:1.3.0" });
    answer({
      when: ["preview"],
      stack: "staging",
      code: 255,
      stdout: "Previewing update (staging):\n",
      stderr:
        'error: could not load plugin for nodejs language host: exec: "pulumi-language-nodejs": executable file not found in $PATH\n',
    });
    const failure = failureOf(await runner.preview("staging", { policyConfig: config }));
    assert.deepEqual(failure, {
      step: "preview",
      reason:
        'error: could not load plugin for nodejs language host: exec: "pulumi-language-nodejs": executable file not found in $PATH',
    });
    assertPolicyConfigFile(only(callsOf("preview"), "preview"), config);
  });

  it("with a CLI that writes engine events to an --event-log file (3.205.0 and older): the same progress and failure", async () => {
    const configMap = urn("dev", "kubernetes:core/v1:ConfigMap", "dev-flags");
    const smoke = smokeRunUrn("dev");
    answer(version(FILE_EVENT_LOG_VERSION), {
      when: ["up"],
      stack: "dev",
      events: [
        { resOutputsEvent: step("update", configMap) },
        policy("warning", "pod-security-restricted", "runs as root", configMap),
        diagnostic(
          smokeFailureLine(
            { baseUrl: "http://dev.example.com", failed: ["health", "version"], total: 4 },
            " in 30.0 s (deadline of 30.0 s reached)",
          ),
          smoke,
        ),
        diagnostic("update failed"),
      ],
      code: 255,
      stderr: "error: update failed\n",
    });
    const failure = failureOf(await runner.up("dev", {}));
    const log = flagValue(only(callsOf("up"), "up").argv, "--event-log") ?? "";
    assert.ok(path.isAbsolute(log), `--event-log ${log}: expected a file`);
    assert.deepEqual(failure, {
      step: "smoke",
      reason: "2 of 4 checks failed (health, version) against http://dev.example.com",
      smoke: { baseUrl: "http://dev.example.com", failed: ["health", "version"], total: 4 },
    });
    assert.deepEqual(
      progress.map((p) => p.message),
      [
        "update kubernetes:core/v1:ConfigMap dev-flags",
        "policy warning pod-security-restricted (dev-flags): runs as root",
      ],
    );
  });

  it("reads outputs with their secret values, and gets, sets and removes config on the stack's own name", async () => {
    answer(
      {
        when: ["stack", "output", "--show-secrets"],
        stack: "prod",
        stdout: JSON.stringify({
          namespace: "app-prod",
          release: { version: "1.3.0", commit: "abc1234", image: "ghcr.io/acme/app@sha256:ab" },
          dbPassword: "s3cret-output",
        }),
      },
      {
        when: ["stack", "output"],
        stack: "prod",
        stdout: JSON.stringify({
          namespace: "app-prod",
          release: { version: "1.3.0", commit: "abc1234", image: "ghcr.io/acme/app@sha256:ab" },
          dbPassword: "[secret]",
        }),
      },
      {
        when: ["config", "get", "env-progression:image"],
        stdout: '{"value":"ghcr.io/acme/app@sha256:ab","secret":false}\n',
      },
      {
        when: ["config", "get", "env-progression:version"],
        code: 255,
        stderr: "error: configuration key 'env-progression:version' not found for stack 'prod'\n",
      },
      {
        when: ["config", "get", "env-progression:replicas"],
        code: 255,
        stderr: "error: getting stack configuration: incorrect passphrase\n",
      },
      { when: ["config", "set"] },
      { when: ["config", "rm"] },
    );

    assert.deepEqual(await runner.outputs("prod"), {
      namespace: "app-prod",
      release: { version: "1.3.0", commit: "abc1234", image: "ghcr.io/acme/app@sha256:ab" },
      dbPassword: "s3cret-output",
    });
    assert.equal(
      await runner.getConfig("prod", "env-progression:image"),
      "ghcr.io/acme/app@sha256:ab",
    );
    assert.equal(await runner.getConfig("prod", "env-progression:version"), undefined);
    await assert.rejects(
      runner.getConfig("prod", "env-progression:replicas"),
      /incorrect passphrase/,
      "a CLI failure other than a missing key is not 'unset'",
    );
    await runner.setConfig("prod", "env-progression:image", "ghcr.io/acme/app@sha256:cd");
    await runner.removeConfig("prod", "env-progression:version");

    assert.deepEqual(
      calls().map((c) => c.argv),
      [
        ["version"],
        ["stack", "select", "--stack", "prod", "--non-interactive"],
        ["stack", "output", "--json", "--stack", "prod", "--non-interactive"],
        ["stack", "output", "--json", "--show-secrets", "--stack", "prod", "--non-interactive"],
        ...["image", "version", "replicas"].map((key) => [
          "config",
          "get",
          `${PROJECT}:${key}`,
          "--json",
          "--stack",
          "prod",
          "--non-interactive",
        ]),
        // `--` before the value: a value starting with "-" is not read as a flag.
        [
          "config",
          "set",
          "env-progression:image",
          "--stack",
          "prod",
          "--plaintext",
          "--non-interactive",
          "--",
          "ghcr.io/acme/app@sha256:cd",
        ],
        ["config", "rm", "env-progression:version", "--stack", "prod", "--non-interactive"],
      ],
    );
    assert.ok(calls().every((c) => c.cwd === REPO));
  });

  it("creates a stack the backend does not have yet (a first run), and says which stack could not be selected", async () => {
    answer(
      {
        when: ["stack", "select"],
        stack: "staging",
        code: 255,
        stderr: "error: no stack named 'staging' found\n",
      },
      {
        when: ["stack", "select"],
        stack: "prod",
        code: 255,
        stderr: "error: failed to load checkpoint: unexpected end of JSON input\n",
      },
      { when: ["stack", "init", "staging"] },
      { when: ["preview"], events: [summary({ create: 12 })] },
    );
    assert.deepEqual(await runner.preview("staging", {}), {
      ok: true,
      summary: "12 to create",
    });
    await assert.rejects(runner.preview("prod", {}), (err: Error) => {
      assert.equal(
        err.message,
        "pulumi stack select prod failed: error: failed to load checkpoint: unexpected end of JSON input",
      );
      reported.push(err.message);
      return true;
    });
    assert.deepEqual(
      calls().map((c) => [commandOf(c), flagValue(c.argv, "--stack") ?? null]),
      [
        ["version", null],
        ["stack select", "staging"],
        ["stack init staging", null],
        ["preview", "staging"],
        ["version", null],
        ["stack select", "prod"],
      ],
    );
  });

  it("no passphrase or kubeconfig canary in any progress line or failure message", async () => {
    // Each stack's up reports progress and fails on a policy; each preview fails in the CLI.
    const rules: Rule[] = [];
    for (const env of ["dev", "staging", "prod"] as const) {
      const deployment = urn(env, "kubernetes:apps/v1:Deployment", `${env}-app`);
      rules.push(
        {
          when: ["up"],
          stack: env,
          events: [
            { resOutputsEvent: step("create", deployment) },
            policy("warning", "resource-limits", "no memory limit", deployment),
            policy("mandatory", "image-pinned-by-digest", "not pinned", deployment),
          ],
          code: 255,
          stderr: "error: update failed\n",
        },
        {
          when: ["preview"],
          stack: env,
          code: 255,
          stderr: `error: could not decrypt configuration value for stack '${env}'\n`,
        },
      );
    }
    answer(...rules);
    for (const env of ["dev", "staging", "prod"] as const) {
      failureOf(await runner.up(env, {}));
      failureOf(await runner.preview(env, {}));
    }
    assert.equal(progress.length, 6);
    // And every line the tests above reported, when they ran.
    for (const line of reported) {
      for (const canary of CANARIES) assert.ok(!line.includes(canary), `${canary} in: ${line}`);
    }
  });
});
