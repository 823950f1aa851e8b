/**
 * The three real stacks, each evaluated by the Pulumi SDK's in-process engine with its real stack
 * file. What is asserted is what the environments promise: isolation, the restricted security
 * context, the article's scale table, digests outside dev, and the migration before the rollout.
 */
import assert from "node:assert/strict";
import { ENVIRONMENTS, EnvName } from "../../model/environment";
import { REPO_ROOT } from "../../model/paths";
import { NAMESPACE_NAME_LABEL } from "../../model/reachability/types";
import { canarySecrets, evaluateStack, Evaluation, one, ofType, Registered, secretValue, UNKNOWN_OUTPUT } from "../support/program";

const K = {
  namespace: "kubernetes:core/v1:Namespace",
  quota: "kubernetes:core/v1:ResourceQuota",
  limits: "kubernetes:core/v1:LimitRange",
  netpol: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  job: "kubernetes:batch/v1:Job",
  service: "kubernetes:core/v1:Service",
  ingress: "kubernetes:networking.k8s.io/v1:Ingress",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  secret: "kubernetes:core/v1:Secret",
  configMap: "kubernetes:core/v1:ConfigMap",
};

const expected: Record<EnvName, { replicas: number; host: string; pdb: boolean; maxReplicas?: number; digest: boolean; internetEgress: boolean }> = {
  dev: { replicas: 1, host: "dev.example.com", pdb: false, digest: false, internetEgress: true },
  staging: { replicas: 3, host: "staging.example.com", pdb: true, digest: true, internetEgress: false },
  prod: { replicas: 5, host: "example.com", pdb: true, maxReplicas: 50, digest: true, internetEgress: false },
};

/* eslint-disable @typescript-eslint/no-explicit-any */
function podSpecs(ev: Evaluation): { owner: Registered; spec: any }[] {
  return [...ofType(ev, K.deployment), ...ofType(ev, K.statefulSet), ...ofType(ev, K.job)].map((r) => ({
    owner: r,
    spec: r.inputs.spec.template.spec,
  }));
}

function policy(ev: Evaluation, role: string): any {
  return one(ev, K.netpol, `-${role}`).inputs;
}

for (const env of ENVIRONMENTS) {
  describe(`stack ${env} (Pulumi.${env}.yaml under the SDK's mocks)`, () => {
    let ev: Evaluation;
    const namespace = `app-${env}`;
    const want = expected[env];

    before(async () => {
      ev = await evaluateStack(env);
      if (ev.error) throw ev.error;
    });

    it("labels its namespace with the environment and Pod Security 'restricted'", () => {
      const ns = one(ev, K.namespace);
      assert.equal(ns.inputs.metadata.name, namespace);
      const labels = ns.inputs.metadata.labels;
      assert.equal(labels["env-progression/environment"], env);
      for (const mode of ["enforce", "audit", "warn"]) {
        assert.equal(labels[`pod-security.kubernetes.io/${mode}`], "restricted", mode);
      }
    });

    it("sizes a ResourceQuota for the peak and sets container defaults", () => {
      const hard = one(ev, K.quota).inputs.spec.hard;
      const peak = want.maxReplicas ?? want.replicas;
      // the app at its peak, a rolling update's surge, the database and the migration
      assert.ok(Number(hard.pods) >= peak + 2, `pods ${hard.pods} < ${peak + 2}`);
      for (const k of ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]) assert.ok(hard[k], k);
      const limit = one(ev, K.limits).inputs.spec.limits[0];
      assert.equal(limit.type, "Container");
      assert.ok(limit.default.cpu && limit.defaultRequest.memory);
    });

    it("denies all ingress and egress by default", () => {
      const p = policy(ev, "default-deny");
      assert.equal(p.metadata.namespace, namespace);
      assert.deepEqual(p.spec.podSelector, {});
      assert.deepEqual([...p.spec.policyTypes].sort(), ["Egress", "Ingress"]);
      assert.equal(p.spec.ingress, undefined);
      assert.equal(p.spec.egress, undefined);
    });

    it("allows traffic inside the namespace only", () => {
      const p = policy(ev, "allow-same-namespace");
      assert.deepEqual(p.spec.ingress, [{ from: [{ podSelector: {} }] }]);
      assert.deepEqual(p.spec.egress, [{ to: [{ podSelector: {} }] }]);
    });

    it("allows DNS over UDP and TCP 53 to kube-system, selected by its immutable name label", () => {
      const p = policy(ev, "allow-dns");
      assert.deepEqual(p.spec.policyTypes, ["Egress"]);
      assert.equal(p.spec.egress.length, 1);
      const rule = p.spec.egress[0];
      assert.deepEqual(rule.to, [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: "kube-system" } } }]);
      assert.deepEqual(rule.ports, [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ]);
    });

    it("allows ingress only from the ingress controller's namespace, by name label", () => {
      const p = policy(ev, "allow-ingress-controller");
      assert.deepEqual(p.spec.policyTypes, ["Ingress"]);
      assert.deepEqual(p.spec.ingress, [
        { from: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: "ingress-nginx" } } }] },
      ]);
    });

    it("selects namespaces only by kubernetes.io/metadata.name, never by a settable label", () => {
      for (const np of ofType(ev, K.netpol)) {
        const peers = [
          ...(np.inputs.spec.ingress ?? []).flatMap((r: any) => r.from ?? []),
          ...(np.inputs.spec.egress ?? []).flatMap((r: any) => r.to ?? []),
        ];
        for (const peer of peers) {
          if (peer.namespaceSelector === undefined) continue;
          assert.deepEqual(Object.keys(peer.namespaceSelector.matchLabels ?? {}), [NAMESPACE_NAME_LABEL], np.name);
          assert.equal(peer.namespaceSelector.matchExpressions, undefined, np.name);
        }
      }
    });

    it(want.internetEgress ? "allows egress to the internet (dev only)" : "allows no egress outside the cluster", () => {
      const cidr = ofType(ev, K.netpol).filter((p) => p.name.endsWith("-allow-egress-cidrs"));
      if (want.internetEgress) {
        assert.equal(cidr.length, 1);
        assert.deepEqual(cidr[0]?.inputs.spec.egress, [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }]);
      } else {
        assert.equal(cidr.length, 0);
        for (const np of ofType(ev, K.netpol)) {
          const blocks = (np.inputs.spec.egress ?? []).flatMap((r: any) => r.to ?? []).filter((p: any) => p.ipBlock);
          assert.deepEqual(blocks, [], np.name);
        }
      }
    });

    it("runs every container with the restricted security context, requests, limits", () => {
      const specs = podSpecs(ev);
      assert.equal(specs.length, 3, "app, database, migration");
      for (const { owner, spec } of specs) {
        assert.equal(spec.securityContext.runAsNonRoot, true, owner.name);
        assert.notEqual(spec.securityContext.runAsUser, 0, owner.name);
        assert.equal(spec.securityContext.seccompProfile.type, "RuntimeDefault", owner.name);
        assert.equal(spec.automountServiceAccountToken, false, owner.name);
        for (const c of spec.containers) {
          const sc = c.securityContext;
          const where = `${owner.name}/${c.name}`;
          assert.equal(sc.runAsNonRoot, true, where);
          assert.ok(Number.isInteger(sc.runAsUser) && sc.runAsUser > 0, where);
          assert.equal(sc.allowPrivilegeEscalation, false, where);
          assert.equal(sc.readOnlyRootFilesystem, true, where);
          assert.deepEqual(sc.capabilities, { drop: ["ALL"] }, where);
          assert.equal(sc.seccompProfile.type, "RuntimeDefault", where);
          for (const k of ["requests", "limits"]) {
            assert.ok(c.resources[k].cpu && c.resources[k].memory, `${where} ${k}`);
          }
          // Pod Security "restricted" volume types only
          for (const v of spec.volumes ?? []) {
            const kinds = Object.keys(v).filter((key) => key !== "name");
            assert.ok(kinds.every((kind) => ["configMap", "emptyDir", "secret", "persistentVolumeClaim"].includes(kind)), `${where} ${kinds}`);
          }
        }
      }
    });

    it("probes the app on /healthz for readiness and liveness", () => {
      const c = one(ev, K.deployment).inputs.spec.template.spec.containers[0];
      assert.equal(c.readinessProbe.httpGet.path, "/healthz");
      assert.equal(c.livenessProbe.httpGet.path, "/healthz");
      assert.equal(c.readinessProbe.httpGet.port, c.ports[0].name);
    });

    it(`runs ${want.replicas} replica(s) as the article's table says`, () => {
      assert.equal(one(ev, K.deployment).inputs.spec.replicas, want.replicas);
    });

    it(want.digest ? "pins every image by digest" : "may use image tags (dev)", () => {
      const images = podSpecs(ev).flatMap(({ spec }) => spec.containers.map((c: any) => c.image as string));
      assert.equal(images.length, 3);
      for (const image of images) {
        assert.equal(/@sha256:[a-f0-9]{64}$/.test(image), want.digest, image);
      }
    });

    it(want.pdb ? "has a PodDisruptionBudget" : "has no PodDisruptionBudget (dev)", () => {
      const pdbs = ofType(ev, K.pdb);
      assert.equal(pdbs.length, want.pdb ? 1 : 0);
      if (want.pdb) assert.equal(pdbs[0]?.inputs.spec.maxUnavailable, 1);
    });

    it(want.maxReplicas ? `autoscales up to ${want.maxReplicas} pods` : "has no autoscaler", () => {
      const hpas = ofType(ev, K.hpa);
      assert.equal(hpas.length, want.maxReplicas ? 1 : 0);
      if (want.maxReplicas) {
        assert.equal(hpas[0]?.inputs.spec.maxReplicas, want.maxReplicas);
        assert.equal(hpas[0]?.inputs.spec.minReplicas, want.replicas);
        assert.equal(hpas[0]?.inputs.spec.scaleTargetRef.name, "app");
      }
    });

    it("serves the environment's host through an Ingress to the app Service", () => {
      const ing = one(ev, K.ingress).inputs;
      assert.equal(ing.spec.rules[0].host, want.host);
      assert.equal(ing.spec.ingressClassName, "nginx");
      assert.equal(ing.spec.rules[0].http.paths[0].backend.service.name, "app");
      assert.equal(ev.outputs.url, `http://${want.host}`);
    });

    it("runs the migration Job after the database and before the Deployment rolls", () => {
      const job = one(ev, K.job);
      const deployment = one(ev, K.deployment);
      assert.ok(job.dependsOn.includes(one(ev, K.statefulSet).name), `job deps: ${job.dependsOn}`);
      assert.ok(deployment.dependsOn.includes(job.name), `deployment deps: ${deployment.dependsOn}`);
      const container = job.inputs.spec.template.spec.containers[0];
      const envVars = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
      assert.equal(envVars.LOCK_TIMEOUT, "5s");
      assert.deepEqual(envVars.PGPASSWORD, { secretKeyRef: { name: "app-db-credentials", key: "password" } });
      assert.deepEqual(container.command, ["sh", "/migrations/migrate.sh"]);
      const files = one(ev, K.configMap, "-migration-files").inputs.data;
      assert.ok(Object.keys(files).some((f) => f.endsWith(".sql")));
      assert.ok("migrate.sh" in files);
      // the Job mounts the auto-named ConfigMap, so a changed migration replaces the Job
      assert.match(job.inputs.spec.template.spec.volumes[0].configMap.name, new RegExp(`^${env}-migration-files-[0-9a-f]{8}$`));
    });

    it("keeps the database password in a Secret of its own namespace, referenced not copied", () => {
      const canary = canarySecrets(env)["env-progression:dbPassword"] as string;
      const secret = one(ev, K.secret);
      assert.equal(secret.inputs.metadata.namespace, namespace);
      // sent to the engine as a secret, so it is encrypted in state and masked in diffs
      assert.deepEqual(secretValue(secret.inputs.stringData), { password: canary });
      // The value appears nowhere else: not in another resource's inputs, not in an output.
      for (const r of ev.resources) {
        if (r === secret) continue;
        assert.ok(!JSON.stringify(r.inputs).includes(canary), `${r.name} carries the password`);
      }
      assert.ok(!JSON.stringify(ev.outputs).includes(canary));
      const pgEnv = one(ev, K.statefulSet).inputs.spec.template.spec.containers[0].env;
      const pw = pgEnv.find((e: any) => e.name === "POSTGRES_PASSWORD");
      assert.deepEqual(pw.valueFrom, { secretKeyRef: { name: "app-db-credentials", key: "password" } });
    });

    it("gives the app its feature flags from a ConfigMap, and exports them", () => {
      const flags = JSON.parse(one(ev, K.configMap, "-app-flags").inputs.data["flags.json"]);
      assert.deepEqual(flags, { "checkout-v2": true, "search-v2": false });
      assert.deepEqual(ev.outputs.featureFlags, flags);
      const c = one(ev, K.deployment).inputs.spec.template.spec.containers[0];
      assert.ok(c.env.some((e: any) => e.name === "FLAGS_FILE" && e.value === "/etc/app/flags.json"));
    });

    it("stamps the release's commit on the workload and exports it", () => {
      const release = ev.outputs.release as { commit: string; version: string; image: string };
      assert.match(release.commit, /^([0-9a-f]{40}(-dirty)?|unknown)$/);
      const d = one(ev, K.deployment).inputs;
      assert.equal(d.metadata.annotations["env-progression/release-commit"], release.commit);
      assert.equal(d.spec.template.metadata.annotations["env-progression/release-commit"], release.commit);
      const version = d.spec.template.spec.containers[0].env.find((e: any) => e.name === "APP_VERSION");
      assert.equal(version.value, release.version);
      assert.equal(release.image, d.spec.template.spec.containers[0].image);
    });

    it("runs the smoke tests after the rollout and the Ingress, against the release being deployed", () => {
      const run = ev.resources.find((r) => r.type === "pulumi-nodejs:dynamic/env-progression:SmokeRun");
      assert.ok(run, "no smoke run registered");
      assert.ok(run.dependsOn.includes(one(ev, K.deployment).name), `smoke deps: ${run.dependsOn}`);
      assert.ok(run.dependsOn.includes(one(ev, K.ingress).name), `smoke deps: ${run.dependsOn}`);
      const release = ev.outputs.release as { version: string };
      assert.equal(run.inputs.baseUrl, `http://${want.host}`);
      assert.equal(run.inputs.expectVersion, release.version);
      assert.equal(run.inputs.requestTimeoutMs, 10_000);
      assert.equal(run.inputs.deadlineMs, 60_000);
      assert.deepEqual(
        run.inputs.checks.map((c: any) => c.name),
        ["health", "version", "database", "critical-action"],
      );
      // the serialized provider the engine would store and load
      assert.match(run.inputs.__provider, /^exports\.handler = /);
      assert.ok(!run.inputs.__provider.includes(REPO_ROOT), "the provider text names this checkout");
    });

    it("exports the verified release from the smoke run, with no secret in any output", () => {
      assert.ok("verifiedRelease" in ev.outputs);
      const secrets = Object.values(canarySecrets(env));
      const text = JSON.stringify(ev.outputs);
      for (const s of secrets) assert.ok(!text.includes(s), "an output carries a secret");
      assert.deepEqual(ev.secretOutputs, []);
    });

    it("runs the reference app from a ConfigMap on the stock image", () => {
      const d = one(ev, K.deployment).inputs.spec.template.spec;
      assert.deepEqual(d.containers[0].command, ["node", "/app/server.js"]);
      const code = one(ev, K.configMap, "-app-code").inputs.data["server.js"];
      assert.match(code, /\/api\/db-status/);
    });
  });
}

describe("the smoke token", () => {
  it("travels to the smoke run as a secret Authorization header, and to nothing else", async () => {
    const ev = await evaluateStack("staging");
    if (ev.error) throw ev.error;
    const token = canarySecrets("staging")["env-progression:smokeToken"] as string;
    const run = ev.resources.find((r) => r.type === "pulumi-nodejs:dynamic/env-progression:SmokeRun");
    assert.deepEqual(secretValue(run?.inputs.headers), { Authorization: `Bearer ${token}` });
    for (const r of ev.resources) {
      if (r === run) continue;
      assert.ok(!JSON.stringify(r.inputs).includes(token), `${r.name} carries the token`);
    }
  });
});

// Regression, found by the real engine: the smoke run re-ran only for a new version, so a new image
// of the same version was exported as verified without a check ever running against it.
describe("a new image of the same version", () => {
  it("changes the smoke run's inputs, so that the checks run again before it is verified", async () => {
    const run = async (config: Record<string, string>) => {
      const ev = await evaluateStack("dev", { config });
      if (ev.error) throw ev.error;
      return ev.resources.find((r) => r.type === "pulumi-nodejs:dynamic/env-progression:SmokeRun")!.inputs;
    };
    const before = await run({ "env-progression:version": "1.4.2" });
    const after = await run({ "env-progression:version": "1.4.2", "env-progression:image": "node:24-alpine-other" });
    assert.equal(after.expectVersion, before.expectVersion);
    assert.match(before.rollout, /^[0-9a-f]{64}$/);
    assert.notEqual(after.rollout, before.rollout);
    assert.equal((await run({ "env-progression:version": "1.4.2" })).rollout, before.rollout, "stable when nothing changed");
  });
});

describe("bring your own image", () => {
  it("runs the image's own entrypoint and mounts no reference code", async () => {
    const ev = await evaluateStack("staging", {
      config: {
        "env-progression:appSource": "image",
        "env-progression:image": `registry.example.com/team/shop@sha256:${"b".repeat(64)}`,
        "env-progression:containerPort": 3000,
      },
    });
    if (ev.error) throw ev.error;
    const c = one(ev, K.deployment).inputs.spec.template.spec.containers[0];
    assert.equal(c.command, undefined);
    assert.equal(c.image, `registry.example.com/team/shop@sha256:${"b".repeat(64)}`);
    assert.deepEqual(c.ports, [{ name: "http", containerPort: 3000 }]);
    assert.equal(ofType(ev, K.configMap).filter((r) => r.name.endsWith("-app-code")).length, 0);
  });
});

describe("resources written as YAML numbers", () => {
  it("reach the container as the quantities Kubernetes reads them as (cpu: 1, memory in bytes)", async () => {
    const ev = await evaluateStack("staging", {
      config: {
        "env-progression:resources": { requests: { cpu: 0.5, memory: 134217728 }, limits: { cpu: 1, memory: "256Mi" } },
      },
    });
    if (ev.error) throw ev.error;
    const c = one(ev, K.deployment).inputs.spec.template.spec.containers[0];
    assert.deepEqual(c.resources, {
      requests: { cpu: "0.5", memory: "134217728" },
      limits: { cpu: "1", memory: "256Mi" },
    });
  });
});

describe("parity exceptions in stack config", () => {
  it("accepts one with an item, a reason and an expiry, and creates the stack as usual", async () => {
    const exception = { item: "flag:search-v2", reason: "search v2 is measured in prod first", expires: "2027-01-31" };
    const ev = await evaluateStack("prod", { config: { "env-progression:parityExceptions": [exception] } });
    if (ev.error) throw ev.error;
    assert.equal(ofType(ev, K.deployment).length, 1);
  });
});

describe("preview", () => {
  it("registers the same resources, and leaves what the smoke run verifies unknown", async () => {
    const ev = await evaluateStack("staging", { preview: true });
    if (ev.error) throw ev.error;
    assert.equal(ev.outputs.verifiedRelease, UNKNOWN_OUTPUT);
    assert.equal(ev.outputs.url, "http://staging.example.com");
    assert.ok(ev.resources.some((r) => r.type === "pulumi-nodejs:dynamic/env-progression:SmokeRun"));
    assert.equal(ofType(ev, K.job).length, 1);
  });
});

describe("the parityBaseline output", () => {
  it("stays the same from one run to the next, and its salt differs between stacks", async () => {
    const salt = (ev: Evaluation) => (ev.outputs.parityBaseline as { secrets: { params: { salt: string } } }).secrets.params.salt;
    const first = await evaluateStack("staging");
    const again = await evaluateStack("staging");
    const dev = await evaluateStack("dev");
    for (const ev of [first, again, dev]) if (ev.error) throw ev.error;
    // A PR preview shows no parityBaseline change when nothing changed.
    assert.deepEqual(again.outputs.parityBaseline, first.outputs.parityBaseline);
    // The salt comes from the namespace's uid: another namespace, another salt.
    assert.notEqual(salt(dev), salt(first));
    assert.equal(Buffer.from(salt(first), "base64").length, 16);
  });
});
