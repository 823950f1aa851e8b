/**
 * The three stacks through the real engine, on the local control plane: the pulumi CLI, its Node
 * language host and the Kubernetes provider built from source (npm run engine:build), against
 * etcd + kube-apiserver + controller-manager + scheduler with kwok for the kubelets
 * (npm run cluster:up). Nothing the engine does is mocked. Two things are stand-ins, named as such:
 * the @pulumi/command plugin (tools/engine/plugins/README.md) and the app's process on simulated
 * pods (tools/local/appHost.ts), which the smoke tests reach on loopback.
 *
 * One scenario, in order; each step needs the ones before it (--bail stops at the first failure):
 * previews with the pack, promote with approval, the pack refusing each kind of broken stack, the
 * API server refusing what Pod Security refuses, a broken release stopped in dev and rolled back,
 * no changes on a second up, no drift on refresh, a SIGKILLed up that recovers, the recovery from a
 * kill inside the checkpoint write (made on purpose), no canary secret anywhere, and a destroy that
 * leaves no namespace.
 *
 * This suite never skips: without the engine or the control plane it fails, naming what to run.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ENVIRONMENTS, OUTPUTS, type EnvName, type Release } from "../../model/environment";
import { POLICY_PACK_LAUNCHER } from "../../tools/engine/environment";
import { clusterScript, startLocal, type LocalSession } from "../../tools/local/session";
import { policyPackConfig } from "../../model/baseline";
import { PROJECT } from "../../model/config/environmentConfig";
import { EXIT } from "../../model/cli";
import { CONFIG_KEYS, parseRelease } from "../../tools/promote/release";
import { writePolicyConfigFile } from "../../tools/promote/policy-config";
import { PRELOAD } from "../e2e/brokenRelease";
import { killSession, promote, pulumi, run, transcript, type CliResult } from "./cli";

/** The broken release: dev's image plus the e2e preload that fails the critical action. */
const BROKEN_IMAGE = "env-progression-local/broken:1";

interface Deployment {
  metadata: { generation?: number; annotations?: Record<string, string> };
  spec: { template: { spec: { containers: { name: string; image: string }[] } } };
  status?: { observedGeneration?: number; availableReplicas?: number; updatedReplicas?: number };
}

describe("real engine: the three stacks on the local control plane", function () {
  this.timeout(20 * 60_000);
  let session: LocalSession;
  let scratch: string;
  const released: Partial<Record<EnvName, Release>> = {};

  /** A failed command's whole output goes to a file the message names; its tail is shown. */
  const expectOk = (r: CliResult, what: string) => {
    if (r.code === 0) return;
    const file = path.join(os.tmpdir(), `env-progression-engine-failure-${Date.now()}.log`);
    writeFileSync(file, r.output);
    assert.fail(
      `${what} failed (exit ${r.code}; whole output in ${file}):\n${r.output.slice(-6000)}`,
    );
  };

  const deploymentOf = (env: EnvName) =>
    session.api.get<Deployment>(
      `/apis/apps/v1/namespaces/${session.namespaces[env]}/deployments/app`,
    );
  const imageOf = async (env: EnvName) =>
    (await deploymentOf(env))?.spec.template.spec.containers.find((c) => c.name === "app")?.image;

  /** The policy config a preview or up of `env` gets: the deployed baselines of the stacks below. */
  async function policyArgs(env: EnvName): Promise<string[]> {
    const args = ["--policy-pack", POLICY_PACK_LAUNCHER];
    const below = ENVIRONMENTS.slice(0, ENVIRONMENTS.indexOf(env));
    if (below.length === 0) return args;
    const baselines = [];
    for (const e of below)
      baselines.push((await session.project.outputs(e))[OUTPUTS.parityBaseline]);
    const file = await writePolicyConfigFile(
      policyPackConfig(baselines[baselines.length - 1], baselines.slice(0, -1)),
      env,
    );
    cleanups.push(() => file.remove());
    return [...args, "--policy-pack-config", file.path];
  }
  const cleanups: (() => unknown)[] = [];

  /**
   * The copy's program back to its commit (a broken stack is a change of code on top of it). Only
   * the program: the stack files hold config set since (the smoke URL, promote's pins).
   */
  const restoreProgram = () =>
    execFileSync("git", ["checkout", "--", "index.ts", "components"], {
      cwd: session.project.dir,
      stdio: "ignore",
    });

  /** A preview of `env` with the pack must fail, naming `policy`. */
  const refused = async (env: EnvName, policy: string) => {
    const r = await pulumi(session, env, ["preview", ...(await policyArgs(env))]);
    assert.notEqual(r.code, 0, `preview of a broken ${env} passed:\n${r.output.slice(-4000)}`);
    assert.match(r.output, new RegExp(`\\b${policy}\\b`), r.output.slice(-4000));
    assert.match(r.output, /mandatory/);
    return r;
  };

  before(async function () {
    // Idempotent: starts the control plane unless it runs already. Fails (never skips) when the
    // engine is not built, naming npm run engine:build.
    clusterScript("up", true);
    scratch = mkdtempSync(path.join(os.tmpdir(), "env-progression-engine-"));
    session = await startLocal({
      under: scratch,
      images: { [BROKEN_IMAGE]: { preload: PRELOAD } },
      say: (line) => console.log(`      ${line}`),
    });
    console.log(`      project copy: ${session.project.dir}`);
  });

  after(async function () {
    for (const c of cleanups) await c();
    if (!session) return;
    const keep = process.env.ENGINE_KEEP === "1";
    if (!keep) {
      // Whatever a failed step left deployed, so that the next run starts clean.
      for (const env of [...ENVIRONMENTS].reverse()) {
        await pulumi(session, env, ["destroy", "--yes", "--skip-preview"]).catch(() => undefined);
      }
    }
    await session.stop(keep);
    if (!keep) rmSync(scratch, { recursive: true, force: true });
  });

  it("previews dev with the policy pack under the real engine: the clean stack passes", async function () {
    const r = await pulumi(session, "dev", ["preview", ...(await policyArgs("dev"))]);
    expectOk(r, "pulumi preview -s dev --policy-pack");
    // The pack really ran: the engine names it in the preview's policy summary.
    assert.match(r.output, /env-progression@v?0\.1\.0/, r.output.slice(-3000));
    assert.match(r.output, /\+ +kubernetes:apps\/v1:Deployment/);
  });

  it("promote waits for approval at prod: answered no, prod is not deployed", async function () {
    // A real terminal (script(1)) so that promote asks; the answer "no" is typed ahead.
    const command = `${process.execPath} -r ts-node/register/transpile-only tools/promote.ts --to prod`;
    const r = await run(session, "script", ["-qec", command, "/dev/null"], undefined, {
      env: { TERM: "dumb" },
      stdin: "no\n",
    });
    assert.equal(r.code, EXIT.notApproved, r.output.slice(-6000));
    assert.match(r.output, /Deploy .*to prod\? Type "yes" to deploy:/);
    assert.match(r.output, /prod was not approved; nothing was deployed to prod/);
    for (const env of ["dev", "staging"] as const) {
      assert.ok(await deploymentOf(env), `${env} was deployed before the question`);
    }
    assert.equal(await session.api.get(`/api/v1/namespaces/${session.namespaces.prod}`), undefined);
  });

  it("promote --yes deploys dev → staging → prod, each up running its smoke tests against the app", async function () {
    const r = await promote(session, ["--to", "prod", "--yes"]);
    assert.equal(r.code, EXIT.ok, r.output.slice(-8000));
    const order = ["[dev] up:", "[staging] up:", "[prod] up:"].map((m) => r.stdout.indexOf(m));
    assert.ok(
      order.every((i) => i >= 0) && order[0]! < order[1]! && order[1]! < order[2]!,
      r.stdout,
    );
    for (const env of ENVIRONMENTS) {
      const outputs = await session.project.outputs(env);
      const release = parseRelease(outputs[OUTPUTS.release]);
      const verified = parseRelease(outputs[OUTPUTS.verifiedRelease]);
      assert.ok(release && verified, `${env} exports release and verifiedRelease`);
      assert.deepEqual(verified, release, `${env}'s smoke tests verified what it runs`);
      released[env] = release;
      // The API server holds what the stack says, and the app host runs exactly that template.
      const d = await deploymentOf(env);
      assert.equal(d?.spec.template.spec.containers[0]?.image, release.image);
      assert.ok((d?.status?.availableReplicas ?? 0) >= 1, `${env}'s Deployment is available`);
      assert.equal(session.hosts[env].image, release.image);
    }
    assert.equal(
      released.prod!.image,
      released.staging!.image,
      "prod runs the image staging verified",
    );
  });

  it("previews staging and prod against the deployed stacks below: clean", async function () {
    for (const env of ["staging", "prod"] as const) {
      const r = await pulumi(session, env, ["preview", ...(await policyArgs(env))]);
      expectOk(r, `pulumi preview -s ${env} --policy-pack`);
      assert.match(r.output, /env-progression@v?0\.1\.0/);
    }
  });

  it("the pack refuses a parity break: a feature flag on in prod, off in staging", async function () {
    const staging = await session.project.stack("staging");
    // Pulumi.yaml's list with checkout-v2 off, in staging only: a list is set item by item, by path.
    const key = "env-progression:featureFlags";
    await staging.setConfig(`${key}[0]`, { value: "checkout-v2=off", secret: false }, true);
    await staging.setConfig(`${key}[1]`, { value: "search-v2=off", secret: false }, true);
    try {
      await refused("staging", "enforce-environment-parity");
    } finally {
      await staging.removeConfig("env-progression:featureFlags");
    }
  });

  it("the pack refuses a lower environment's secret: staging given dev's dbPassword", async function () {
    const key = "env-progression:dbPassword";
    const dev = await (await session.project.stack("dev")).getConfig(key);
    const staging = await session.project.stack("staging");
    const own = await staging.getConfig(key);
    await staging.setConfig(key, { value: dev.value, secret: true });
    try {
      const r = await refused("staging", "disallow-lower-environment-secrets");
      assert.ok(!r.output.includes(dev.value), "the message never shows the secret");
    } finally {
      await staging.setConfig(key, { value: own.value, secret: true });
    }
  });

  it("the pack refuses a privileged container", async function () {
    addPrivilegedPod(session.project.dir);
    try {
      await refused("dev", "enforce-restricted-pod-security");
    } finally {
      restoreProgram();
    }
  });

  it("the pack refuses a missing NetworkPolicy", async function () {
    const file = path.join(session.project.dir, "components", "environment.ts");
    const text = readFileSync(file, "utf8");
    // The engine type-checks the program, so the change must type-check too.
    const changed = text.replace(
      "new NetworkIsolation(",
      "if ((0 as number) === 1) new NetworkIsolation(",
    );
    assert.notEqual(changed, text, "components/environment.ts creates NetworkIsolation");
    writeFileSync(file, changed);
    try {
      await refused("dev", "missing-default-deny-network-policy");
    } finally {
      restoreProgram();
    }
  });

  it("the API server refuses what restricted Pod Security refuses, with no pack to stop it first", async function () {
    addPrivilegedPod(session.project.dir);
    try {
      const r = await pulumi(session, "dev", ["up", "--yes", "--skip-preview"]);
      assert.notEqual(r.code, 0, r.output.slice(-4000));
      assert.match(r.output, /violates PodSecurity "restricted:latest"/, r.output.slice(-4000));
      assert.match(r.output, /privileged/);
    } finally {
      restoreProgram();
    }
    // Nothing else changed: the stack is back to its program with one up.
    expectOk(await pulumi(session, "dev", ["up", "--yes", "--skip-preview"]), "pulumi up -s dev");
  });

  it("a broken release fails dev's up on its smoke tests; dev is rolled back, staging and prod untouched", async function () {
    const before = {
      staging: JSON.stringify(await session.project.outputs("staging")),
      prod: JSON.stringify(await session.project.outputs("prod")),
    };
    await (
      await session.project.stack("dev")
    ).setConfig(CONFIG_KEYS.image, { value: BROKEN_IMAGE, secret: false });
    const r = await promote(session, ["--to", "prod", "--yes"]);
    assert.equal(r.code, EXIT.failed, r.output.slice(-8000));
    assert.match(r.stdout, /\[dev\] FAILED at smoke: /);
    // The structured line (model/smoke.ts), read back from the real engine's error: the check named.
    assert.match(
      r.stdout,
      /\[dev\] FAILED at smoke: 1 of 4 checks failed \(critical-action\) against http:\/\//,
    );
    assert.match(r.stdout, /\[dev\] rolled back to /);
    assert.doesNotMatch(r.stdout, /\[staging\] (deploying|previewing|up:)/);

    // The rollback: dev's stack, its Deployment and the app it runs are the verified release again.
    const dev = await session.project.outputs("dev");
    assert.equal(parseRelease(dev[OUTPUTS.verifiedRelease])?.image, released.dev!.image);
    assert.equal(parseRelease(dev[OUTPUTS.release])?.image, released.dev!.image);
    assert.equal(await imageOf("dev"), released.dev!.image);
    assert.equal(session.hosts.dev.image, released.dev!.image);

    // Staging and prod: the same outputs, the same Deployments, and no trace of the broken image
    // in their state or in the API server.
    for (const env of ["staging", "prod"] as const) {
      assert.equal(
        JSON.stringify(await session.project.outputs(env)),
        before[env],
        `${env}'s outputs`,
      );
      assert.equal(await imageOf(env), released[env]!.image, `${env}'s Deployment`);
      const state = await run(session, "pulumi", ["stack", "export", "--stack", env], env);
      expectOk(state, `pulumi stack export -s ${env}`);
      assert.ok(
        !state.stdout.includes(BROKEN_IMAGE),
        `${env}'s state never saw the broken release`,
      );
      const pods = JSON.stringify(
        await session.api.list(`/api/v1/namespaces/${session.namespaces[env]}/pods`),
      );
      assert.ok(!pods.includes(BROKEN_IMAGE), `${env}'s pods never ran the broken release`);
    }

    // Dev's stack file still names the broken release, so that the next run fails the same way
    // until someone fixes it (tools/promote/plan.ts, rollBack). The fix: name the verified one.
    const devStack = await session.project.stack("dev");
    assert.equal((await devStack.getConfig(CONFIG_KEYS.image)).value, BROKEN_IMAGE);
    await devStack.setConfig(CONFIG_KEYS.image, { value: released.dev!.image, secret: false });
  });

  it("a second up with nothing changed reports no changes; refresh finds no drift", async function () {
    for (const env of ENVIRONMENTS) {
      const up = await pulumi(session, env, [
        "up",
        "--yes",
        "--expect-no-changes",
        ...(await policyArgs(env)),
      ]);
      expectOk(up, `pulumi up -s ${env} --expect-no-changes`);
      const refresh = await pulumi(session, env, ["refresh", "--yes", "--expect-no-changes"]);
      expectOk(refresh, `pulumi refresh -s ${env} --expect-no-changes`);
    }
  });

  /** What the recovery steps ran and printed, under the scratch folder the canary test scans. */
  const recoveryLog = () => path.join(scratch, "recovery.log");
  /** The file backend's state folder of the copy (its PULUMI_BACKEND_URL). */
  const stateDir = () =>
    path.join(new URL(session.project.environ.PULUMI_BACKEND_URL!).pathname, ".pulumi");
  /** dev's checkpoint metadata sidecar (gocloud.dev fileblob's `<key>.attrs`). */
  const devSidecar = () => path.join(stateDir(), "stacks", PROJECT, "dev.json.attrs");
  /** Where the file backend keeps dev's update locks (pulumi pkg/backend/diy/lock.go). */
  const devLockDir = () => path.join(stateDir(), "locks", "organization", PROJECT, "dev");
  const devLocks = () =>
    existsSync(devLockDir()) ? readdirSync(devLockDir()).filter((f) => f.endsWith(".json")) : [];

  /**
   * One step of docs/engine.md's recovery from a killed up, on dev. A kill inside the file
   * backend's checkpoint write leaves the checkpoint's metadata sidecar empty, and then every
   * command fails with "failed to load checkpoint: EOF", `pulumi cancel` too (it loads the stack
   * before it deletes the lock). The documented step: delete that empty file, then run the step
   * again. The diagnosis must hold (exactly dev's sidecar is empty), or the step fails as it is.
   * Returns whether the sidecar was deleted.
   */
  async function recoveryStep(args: string[], what: string): Promise<boolean> {
    let r = await pulumi(session, "dev", args);
    let deleted = false;
    if (r.code !== 0 && /failed to load checkpoint: EOF/.test(r.output)) {
      const empty = [...walk(path.join(stateDir(), "stacks"))].filter(
        (f) => f.endsWith(".attrs") && statSync(f).size === 0,
      );
      assert.deepEqual(
        empty,
        [devSidecar()],
        `${what}: "failed to load checkpoint: EOF" without dev's sidecar being the empty file:\n${r.output.slice(-4000)}`,
      );
      rmSync(empty[0]!);
      deleted = true;
      appendFileSync(
        recoveryLog(),
        `${what}: ${empty[0]} was empty; deleted it as docs/engine.md says\n`,
      );
      process.stderr.write(
        `      (${what} met an empty checkpoint sidecar, ${empty[0]}; deleted)\n`,
      );
      r = await pulumi(session, "dev", args);
    }
    appendFileSync(recoveryLog(), r.output);
    expectOk(r, what);
    return deleted;
  }

  it("an up killed with SIGKILL half-way loses nothing: the documented recovery converges", async function () {
    expectOk(
      await pulumi(session, "dev", ["destroy", "--yes", "--skip-preview"]),
      "pulumi destroy -s dev",
    );
    await namespaceGone(session, "dev");
    // Kill the CLI once the API server holds part of the stack (the namespace and its policies).
    let killed = false;
    let cli = 0;
    const r = await pulumi(session, "dev", ["up", "--yes", "--skip-preview"], {
      ownSession: true,
      onSpawn: (pid) => {
        cli = pid;
        const poll = setInterval(async () => {
          const policies = await session.api
            .list(`/apis/networking.k8s.io/v1/namespaces/${session.namespaces.dev}/networkpolicies`)
            .catch(() => []);
          if (policies.length > 0 && !killed) {
            killed = true;
            clearInterval(poll);
            process.kill(pid, "SIGKILL");
          }
        }, 100);
        setTimeout(() => clearInterval(poll), 10 * 60_000).unref();
      },
    });
    assert.ok(
      killed && r.signal === "SIGKILL",
      `the up was not killed half-way:\n${r.output.slice(-3000)}`,
    );
    // Only the CLI was killed; what it started (the Kubernetes provider, the language host) is
    // orphaned and would run on after the suite. It is stopped now, before the recovery, as a
    // machine's restart would.
    const left = killSession(cli);
    process.stderr.write(
      `      (the killed up left ${left.length ? left.join(", ") : "no process"}; stopped)\n`,
    );

    // docs/engine.md, "Recovering from a killed pulumi up": cancel (the file backend's lock),
    // refresh clearing the pending creates, then up; each step also recovers from a kill that
    // landed inside the checkpoint write.
    await recoveryStep(["cancel", "--yes"], "pulumi cancel");
    await recoveryStep(
      ["refresh", "--yes", "--clear-pending-creates"],
      "pulumi refresh --clear-pending-creates",
    );
    await recoveryStep(["up", "--yes", "--skip-preview"], "pulumi up after the kill");
    expectOk(
      await pulumi(session, "dev", ["preview", "--expect-no-changes"]),
      "pulumi preview --expect-no-changes",
    );

    // Nothing the killed up created is orphaned: every object of these kinds in the namespace is
    // one the state tracks.
    const state = await run(session, "pulumi", ["stack", "export", "--stack", "dev"], "dev");
    const tracked = new Set(
      (
        JSON.parse(state.stdout) as {
          deployment: { resources?: { outputs?: { metadata?: { name?: string } } }[] };
        }
      ).deployment.resources
        ?.map((res) => res.outputs?.metadata?.name)
        .filter((n): n is string => typeof n === "string"),
    );
    const ns = session.namespaces.dev;
    for (const kind of [
      `/apis/apps/v1/namespaces/${ns}/deployments`,
      `/apis/apps/v1/namespaces/${ns}/statefulsets`,
      `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`,
      `/api/v1/namespaces/${ns}/services`,
      `/api/v1/namespaces/${ns}/resourcequotas`,
    ]) {
      for (const obj of await session.api.list<{ metadata: { name: string } }>(kind)) {
        assert.ok(
          tracked.has(obj.metadata.name),
          `${kind}/${obj.metadata.name} is not in dev's state`,
        );
      }
    }
    // The app host follows the new Deployment; dev verifies its release again.
    const outputs = await session.project.outputs("dev");
    assert.deepEqual(
      parseRelease(outputs[OUTPUTS.verifiedRelease]),
      parseRelease(outputs[OUTPUTS.release]),
    );
  });

  it("a kill inside the checkpoint write (an update lock left, the sidecar empty) stops refresh and cancel; the documented recovery releases the lock and converges", async function () {
    // The kill above lands in the checkpoint write only now and then (the window is short); this
    // puts the state folder in the condition it leaves on purpose, so the documented recovery is
    // proven on every run. First the lock a killed up leaves (the file backend's format, lock.go's
    // lockContent), shown to be one the CLI honours.
    assert.deepEqual(devLocks(), [], "dev is locked before the test");
    mkdirSync(devLockDir(), { recursive: true });
    const lock = path.join(devLockDir(), "00000000-0000-4000-8000-00000000dead.json");
    writeFileSync(
      lock,
      JSON.stringify({
        pid: 999_999,
        username: os.userInfo().username,
        hostname: os.hostname(),
        timestamp: new Date().toISOString(),
      }),
    );
    const locked = await pulumi(session, "dev", ["refresh", "--yes"]);
    assert.notEqual(
      locked.code,
      0,
      `refresh passed with a lock left:\n${locked.output.slice(-4000)}`,
    );
    assert.match(locked.output, /the stack is currently locked by 1 lock/);
    // Then the sidecar, truncated as gocloud.dev's fileblob truncates it before writing it.
    assert.ok(statSync(devSidecar()).size > 0, `${devSidecar()} should hold the metadata`);
    writeFileSync(devSidecar(), "");
    for (const args of [
      ["refresh", "--yes"],
      ["cancel", "--yes"],
    ]) {
      const r = await pulumi(session, "dev", args);
      assert.notEqual(
        r.code,
        0,
        `pulumi ${args[0]} passed with an empty sidecar:\n${r.output.slice(-4000)}`,
      );
      assert.match(r.output, /failed to load checkpoint: EOF/);
    }
    assert.deepEqual(devLocks(), [path.basename(lock)], "cancel released the lock regardless");
    // docs/engine.md, in order: the sidecar deleted and cancel again, then refresh (no up: nothing
    // changed since the last one, as the preview checks).
    assert.equal(await recoveryStep(["cancel", "--yes"], "pulumi cancel"), true);
    assert.deepEqual(devLocks(), [], "the lock is still there after the recovery's cancel");
    assert.equal(
      await recoveryStep(["refresh", "--yes", "--clear-pending-creates"], "pulumi refresh"),
      false,
    );
    expectOk(
      await pulumi(session, "dev", ["preview", "--expect-no-changes"]),
      "pulumi preview --expect-no-changes after the recovery",
    );
  });

  it("no canary secret in the CLI output, the state files, the logs, or any object but its own Secret", async function () {
    const canaries = session.project.secretValues.flatMap((v) => [
      v,
      Buffer.from(v).toString("base64"),
    ]);
    assert.ok(canaries.length >= 6, "every stack has a passphrase and a dbPassword");
    const leaks: string[] = [];
    const scan = (where: string, text: string) => {
      for (const c of canaries) if (text.includes(c)) leaks.push(where);
    };
    transcript.forEach((t, i) => scan(`CLI/promote output #${i}`, t));
    // The state backend (secrets there are ciphertext), the app hosts' logs, the copy's files.
    for (const file of walk(scratch)) scan(file, readFileSync(file, "latin1"));
    // The control plane's logs.
    const clusterDir = path.dirname(session.kubeconfig);
    for (const file of walk(path.join(clusterDir, "logs")))
      scan(file, readFileSync(file, "latin1"));
    // Every object of every namespaced kind the stacks create, and events; a Secret only when it is
    // not the one that holds the value (the database's own Secret in its own namespace).
    for (const env of ENVIRONMENTS) {
      const ns = session.namespaces[env];
      for (const kind of [
        `/api/v1/namespaces/${ns}/configmaps`,
        `/api/v1/namespaces/${ns}/pods`,
        `/api/v1/namespaces/${ns}/events`,
        `/api/v1/namespaces/${ns}/services`,
        `/apis/apps/v1/namespaces/${ns}/deployments`,
        `/apis/apps/v1/namespaces/${ns}/statefulsets`,
        `/apis/batch/v1/namespaces/${ns}/jobs`,
        `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`,
      ]) {
        scan(kind, JSON.stringify(await session.api.list(kind)));
      }
      const secrets = await session.api.list<{
        metadata: { name: string };
        data?: Record<string, string>;
      }>(`/api/v1/namespaces/${ns}/secrets`);
      const own = await (await session.project.stack(env)).getConfig("env-progression:dbPassword");
      for (const s of secrets) {
        const holdsOwn = Object.values(s.data ?? {}).some(
          (v) => Buffer.from(v, "base64").toString() === own.value,
        );
        if (holdsOwn) continue;
        scan(`${ns}/secret/${s.metadata.name}`, JSON.stringify(s));
      }
      // Its own Secret does hold it: the check above can see a value where it is.
      assert.ok(
        secrets.some((s) =>
          Object.values(s.data ?? {}).some(
            (v) => Buffer.from(v, "base64").toString() === own.value,
          ),
        ),
        `${ns} has the Secret that holds its dbPassword`,
      );
    }
    assert.deepEqual([...new Set(leaks)], [], "a canary secret was found");
  });

  it("destroy leaves no namespace behind", async function () {
    for (const env of [...ENVIRONMENTS].reverse()) {
      const r = await pulumi(session, env, ["destroy", "--yes", "--skip-preview"]);
      expectOk(r, `pulumi destroy -s ${env}`);
      for (const c of session.project.secretValues)
        assert.ok(!r.output.includes(c), "destroy's output");
    }
    for (const env of ENVIRONMENTS) await namespaceGone(session, env);
  });
});

/** A change a pull request might make: a privileged debug Pod next to the workload, in dev. */
function addPrivilegedPod(dir: string): void {
  appendFileSync(
    path.join(dir, "index.ts"),
    `
import * as k8sDebug from "@pulumi/kubernetes";
new k8sDebug.core.v1.Pod("debug", {
  metadata: { namespace: "app-dev" },
  spec: { containers: [{ name: "debug", image: "busybox:1.37", securityContext: { privileged: true } }] },
});
`,
  );
}

async function namespaceGone(session: LocalSession, env: EnvName): Promise<void> {
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    if ((await session.api.get(`/api/v1/namespaces/${session.namespaces[env]}`)) === undefined)
      return;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`namespace ${session.namespaces[env]} still exists 120 s after destroy`);
}

function* walk(dir: string): Generator<string> {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const p = path.join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) {
      if (name === "node_modules" || name === ".git") continue;
      yield* walk(p);
    } else if (st.isFile() && st.size < 64 * 1024 * 1024) yield p;
  }
}
