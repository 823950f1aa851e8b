/**
 * End to end, on a real cluster, with the real pulumi CLI: what the unit tests cannot prove.
 *
 * What it proves, in order (each test needs the ones before it):
 *   1. the cluster enforces NetworkPolicy at all (a control, so that 3 cannot pass vacuously);
 *   2. promote (`tools/promote.ts --to prod --yes`, with Node and ts-node as `npm run promote`
 *      runs it) deploys dev → staging → prod through the Automation
 *      API with the policy pack and baselines, and each stack's smoke tests verify its release;
 *      prod runs exactly the image staging verified;
 *   3. isolation: a pod in dev cannot reach prod's workload and a pod in prod cannot reach dev's,
 *      while a pod reaches its own namespace's workload;
 *   4. a broken release is stopped in dev by the smoke tests, dev is rolled back to the release it
 *      verified before, and staging and prod never see the broken release.
 *
 * It runs only where `pulumi`, `kubectl` and a disposable kube context (kind-*, or the one named
 * in E2E_KUBE_CONTEXT) exist; otherwise it prints why and is reported as pending, never passed.
 * With E2E_REQUIRED=1 (the e2e workflow) missing prerequisites fail it instead.
 *
 * On kind, the smoke tests reach each stack through ingress-nginx on this machine's port 80, so
 * the stacks' hosts must resolve here (test/e2e/hosts.ts prints the /etc/hosts line).
 *
 * The broken release is an image (test/e2e/brokenRelease.ts): dev's image with a preload that
 * makes the critical action fail while /healthz still answers, so the rollout completes and only
 * the smoke tests can stop it. E2E_BROKEN_RELEASE='{"key":"value",…}' replaces it with config
 * overrides of your own.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { OUTPUTS, type EnvName, type Release } from "../../model/environment";
import { EXIT } from "../../model/cli";
import { REPO_ROOT } from "../../model/paths";
import { parseRelease } from "../../tools/promote/release";
import {
  appService,
  deletePod,
  kubectlFor,
  reachable,
  services,
  startPod,
  type Kubectl,
} from "./cluster";
import { brokenReleaseFromEnv, buildBrokenRelease, cannotBuild } from "./brokenRelease";
import { hostsNotOnThisMachine, smokeHosts } from "./hosts";
import { notReady, projectNamespaces, requireCluster } from "./prerequisites";
import { createProject, runPromote, type E2eProject } from "./workspace";

describe("e2e: promotion, isolation and rollback on a real cluster", function () {
  this.timeout(40 * 60_000);

  let kubectl: Kubectl;
  let context: string;
  let project: E2eProject | undefined;
  const released: Partial<Record<EnvName, Release>> = {};
  const namespaces: Partial<Record<EnvName, string>> = {};

  before(async function () {
    context = requireCluster(this, projectNamespaces(REPO_ROOT));
    if (context.startsWith("kind-")) {
      const hosts = [...new Set(Object.values(smokeHosts(REPO_ROOT)))];
      const elsewhere = await hostsNotOnThisMachine(hosts);
      if (elsewhere.length > 0) {
        notReady(
          this,
          `the smoke tests reach kind's ingress on this machine, but ${elsewhere.join("; ")}: ` +
            `add "127.0.0.1 ${hosts.join(" ")}" to /etc/hosts (npx ts-node --transpile-only test/e2e/hosts.ts | sudo tee -a /etc/hosts)`,
        );
      }
    }
    kubectl = kubectlFor(context);
    project = await createProject();
    console.log(`      e2e project copy: ${project.dir} (context ${context})`);
  });

  after(async function () {
    if (!project) return;
    if (process.env.E2E_KEEP === "1") {
      console.log(`      E2E_KEEP=1: stacks and ${project.dir} left in place`);
      return;
    }
    for (const env of ["prod", "staging", "dev"] as const) {
      try {
        await (await project.stack(env)).destroy({ color: "never" });
      } catch (err) {
        console.log(
          `      could not destroy ${env}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`,
        );
      }
    }
    project.remove();
  });

  it("control: this cluster enforces NetworkPolicy at all", async function () {
    const ns = `e2e-np-control-${randomBytes(3).toString("hex")}`;
    kubectl(["create", "namespace", ns]);
    try {
      startPod(kubectl, ns, "server", true);
      startPod(kubectl, ns, "client");
      const ip = kubectl([
        "get",
        "pod",
        "-n",
        ns,
        "server",
        "-o",
        "jsonpath={.status.podIP}",
      ]).stdout.trim();
      const from = { namespace: ns, pod: "client" };
      assert.ok(
        await reachable(kubectl, from, { host: ip, port: 8080 }, 6),
        "without a policy the client must reach the server",
      );
      kubectl(["apply", "-f", "-"], {
        input: JSON.stringify({
          apiVersion: "networking.k8s.io/v1",
          kind: "NetworkPolicy",
          metadata: { name: "deny-all", namespace: ns },
          spec: { podSelector: {}, policyTypes: ["Ingress"] },
        }),
      });
      // Give the policy controller a moment, then it must refuse consistently.
      let refused = false;
      for (let i = 0; i < 10 && !refused; i++) {
        refused = !(await reachable(kubectl, from, { host: ip, port: 8080 }, 2));
      }
      assert.ok(
        refused,
        "a deny-all NetworkPolicy did not block traffic: this cluster's CNI does not enforce NetworkPolicy, so isolation cannot be tested here",
      );
    } finally {
      kubectl(["delete", "namespace", ns, "--wait=false"], { allowFailure: true });
    }
  });

  it("promotes dev → staging → prod with the policies; each stack verifies its release", async function () {
    const run = await runPromote(project!, ["--to", "prod", "--yes"]);
    assert.equal(run.code, EXIT.ok, `promote failed:\n${run.stdout}\n${run.stderr}`);
    // Progress in order, one stack after the other.
    const order = ["[dev] up:", "[staging] up:", "[prod] up:"].map((m) => run.stdout.indexOf(m));
    assert.ok(
      order.every((i) => i >= 0) && order[0]! < order[1]! && order[1]! < order[2]!,
      run.stdout,
    );

    for (const env of ["dev", "staging", "prod"] as const) {
      const outputs = await project!.outputs(env);
      const release = parseRelease(outputs[OUTPUTS.release]);
      const verified = parseRelease(outputs[OUTPUTS.verifiedRelease]);
      assert.ok(release && verified, `${env} exports release and verifiedRelease`);
      assert.deepEqual(verified, release, `${env}'s smoke tests verified what it runs`);
      assert.ok(outputs[OUTPUTS.parityBaseline] !== undefined, `${env} exports parityBaseline`);
      assert.equal(typeof outputs[OUTPUTS.namespace], "string");
      released[env] = release;
      namespaces[env] = outputs[OUTPUTS.namespace] as string;
    }
  });

  it("prod runs exactly the image staging verified", function () {
    assert.ok(released.staging && released.prod, "needs the promotion above");
    assert.match(released.staging.image, /@sha256:[0-9a-f]{64}$/);
    assert.equal(released.prod.image, released.staging.image);
    assert.equal(released.prod.version, released.staging.version);
  });

  it("isolation: dev cannot reach prod's workload, prod cannot reach dev's; each reaches its own", async function () {
    const dev = namespaces.dev;
    const prod = namespaces.prod;
    assert.ok(dev && prod, "needs the promotion above");
    startPod(kubectl, dev, "e2e-probe");
    startPod(kubectl, prod, "e2e-probe");
    try {
      const fromDev = { namespace: dev, pod: "e2e-probe" };
      const fromProd = { namespace: prod, pod: "e2e-probe" };
      const devApp = appService(kubectl, dev);
      const prodApp = appService(kubectl, prod);

      assert.ok(
        await reachable(kubectl, fromDev, devApp, 6),
        `dev → ${devApp.host}:${devApp.port} (same namespace) must work`,
      );
      assert.ok(
        await reachable(kubectl, fromProd, prodApp, 6),
        `prod → ${prodApp.host}:${prodApp.port} (same namespace) must work`,
      );

      // Every Service of the other namespace, not only the workload's: the database too.
      for (const target of services(kubectl, prod)) {
        assert.equal(
          await reachable(kubectl, fromDev, target, 3),
          false,
          `dev must not reach ${target.host}:${target.port}`,
        );
      }
      for (const target of services(kubectl, dev)) {
        assert.equal(
          await reachable(kubectl, fromProd, target, 3),
          false,
          `prod must not reach ${target.host}:${target.port}`,
        );
      }
    } finally {
      deletePod(kubectl, dev, "e2e-probe");
      deletePod(kubectl, prod, "e2e-probe");
    }
  });

  it("a broken release is stopped in dev, dev is rolled back, staging and prod never see it", async function () {
    assert.ok(released.dev && released.staging && released.prod, "needs the promotion above");
    let broken = brokenReleaseFromEnv(process.env.E2E_BROKEN_RELEASE);
    if (!broken) {
      const why = cannotBuild(context);
      if (why) notReady(this, why);
      broken = buildBrokenRelease(released.dev.image, context);
    }
    const devStack = await project!.stack("dev");
    for (const [key, value] of Object.entries(broken)) {
      await devStack.setConfig(key, { value, secret: false });
    }

    const run = await runPromote(project!, ["--to", "prod", "--yes"]);
    assert.equal(run.code, EXIT.failed, run.stdout);
    assert.match(run.stdout, /\[dev\] FAILED at smoke: /);
    assert.match(run.stdout, /\[dev\] rolled back to /);
    assert.match(run.stdout, /stopped at dev \(smoke\)/);
    assert.doesNotMatch(run.stdout, /\[staging\] (deploying|previewing)/);

    // The release is image and version; the commit is the program's, which a rollback keeps.
    const imageAndVersion = (r: Release | undefined) => r && { image: r.image, version: r.version };
    const dev = await project!.outputs("dev");
    assert.deepEqual(
      imageAndVersion(parseRelease(dev[OUTPUTS.verifiedRelease])),
      imageAndVersion(released.dev),
      "dev verifies its previous release again",
    );
    assert.deepEqual(
      imageAndVersion(parseRelease(dev[OUTPUTS.release])),
      imageAndVersion(released.dev),
      "dev runs its previous release again",
    );
    for (const env of ["staging", "prod"] as const) {
      const outputs = await project!.outputs(env);
      assert.deepEqual(
        parseRelease(outputs[OUTPUTS.release]),
        released[env],
        `${env} is unchanged`,
      );
    }
  });
});
