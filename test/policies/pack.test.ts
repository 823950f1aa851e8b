/**
 * The policy pack as its own process, driven over the Analyzer gRPC protocol as the engine drives
 * it, fed what the SDK's in-process engine registers for each real stack. The real stacks pass;
 * every violation class fails, from a changed stack config or a changed resource, with its policy
 * name; no canary secret ever shows in a diagnostic or in the pack's output.
 */
import assert from "node:assert/strict";
import { PROJECT } from "../../model/config/environmentConfig";
import { ENVIRONMENTS, type EnvName } from "../../model/environment";
import { POLICY } from "../../model/policyNames";
import { canarySecrets } from "../../tools/evaluate";
import {
  add,
  ALL_CANARIES,
  analyzeCase,
  change,
  closeAll,
  packFor,
  realPackConfig,
  realRun,
  remove,
  seenTexts,
  UNKNOWN_STRING,
} from "./support";

/* eslint-disable @typescript-eslint/no-explicit-any */

const appContainer = (p: any) => p.spec.template.spec.containers[0];

describe("policy pack over gRPC, as the engine runs it", function () {
  this.timeout(120_000);

  before(async () => {
    // Start the three packs while the baselines are computed; the processes take a few seconds.
    const runs = await Promise.all(ENVIRONMENTS.map((e) => realRun(e)));
    await Promise.all(runs.map((r) => packFor(r)));
  });

  after(async () => {
    await closeAll();
    // The care of pulumi/pulumi-policy#241: policies see secrets in plaintext; nothing repeats them.
    const all = seenTexts.join("\n");
    for (const canary of ALL_CANARIES)
      assert.ok(
        !all.includes(canary),
        "a canary secret appeared in a diagnostic or in the pack's output",
      );
  });

  describe("the pack", () => {
    it("describes itself as the engine reads it: name, version, every policy mandatory, one sentence each", async () => {
      const pack = await packFor(await realRun("dev"));
      assert.equal(pack.info.name, "env-progression");
      assert.equal(pack.info.version, "0.1.0");
      assert.ok(pack.info.supportsConfig);
      // Every policy of the table, and no other: a policy left out of the pack, or one that names
      // itself outside the table, fails here.
      assert.deepEqual(pack.info.policies.map((p) => p.name).sort(), Object.values(POLICY).sort());
      for (const p of pack.info.policies) {
        assert.match(p.name, /^(missing|disallow|enforce|configure)-[a-z0-9-]+$/, p.name);
        assert.equal(p.enforcementLevel, "mandatory", p.name);
        assert.match(p.description, /^[A-Z].*\.$/, `${p.name}: a sentence`);
        assert.doesNotMatch(p.description.slice(0, -1), /[.!?]\s/, `${p.name}: one sentence`);
      }
      const parity = pack.info.policies.find((p) => p.name === POLICY.enforceEnvironmentParity);
      assert.deepEqual(Object.keys(parity?.configSchema?.properties ?? {}), [
        "baseline",
        "exceptions",
      ]);
      const secrets = pack.info.policies.find(
        (p) => p.name === POLICY.disallowLowerEnvironmentSecrets,
      );
      assert.deepEqual(Object.keys(secrets?.configSchema?.properties ?? {}), [
        "baseline",
        "lowerBaselines",
      ]);
      assert.equal(
        pack.info.policies.find((p) => p.name === POLICY.enforceEnvironmentParity)?.type,
        "stack",
      );
      assert.equal(
        pack.info.policies.find((p) => p.name === POLICY.enforceRestrictedPodSecurity)?.type,
        "resource",
      );
    });

    it("refuses a request without resource options, as it refuses an old CLI", async () => {
      const run = await realRun("dev");
      const pack = await packFor(run);
      const grpc = await import("@grpc/grpc-js");
      const analyzerPb = await import("@pulumi/pulumi/proto/analyzer_pb");
      const { analyzeRequest } = await import("../../tools/analyzer");
      const req = analyzeRequest(run.view.analyze[1] as never);
      req.clearOptions();
      const client = (pack as any).client;
      const err: any = await new Promise((resolve) =>
        client.analyze(req, (e: unknown) => resolve(e)),
      );
      assert.ok(err, "expected an error");
      assert.equal(err.code, grpc.status.UNKNOWN);
      assert.match(err.details, /A more recent version of the Pulumi CLI is required/);
      assert.ok(analyzerPb.AnalyzeRequest);
    });
  });

  describe("the real stacks pass", () => {
    for (const env of ENVIRONMENTS) {
      it(`${env}: no diagnostic at all, per resource and for the stack`, async () => {
        const { diagnostics, run } = await analyzeCase({ stack: env });
        assert.deepEqual(
          diagnostics.map((d) => `${d.policyName}: ${d.message}`),
          [],
        );
        assert.ok(run.view.analyze.length > 20 && run.view.analyzeStack.length > 20);
      });
    }
  });

  describe(`parity with the environment below (${POLICY.enforceEnvironmentParity})`, () => {
    it("fails when a flag is on in staging and off in prod", async () => {
      const r = await analyzeCase({
        stack: "prod",
        config: { "env-progression:featureFlags": ["checkout-v2=off", "search-v2=off"] },
      });
      assert.deepEqual(r.failed, [POLICY.enforceEnvironmentParity]);
      const d = r.mandatory[0];
      assert.match(
        d?.message ?? "",
        /feature flag checkout-v2 \(flag:checkout-v2\) is not identical to staging/,
      );
      assert.match(d?.message ?? "", /Fix: /);
      assert.doesNotMatch(
        d?.message ?? "",
        /\boff\b.*\bon\b|\bon\b.*\boff\b|true|false/,
        "never the flag's value",
      );
      assert.match(d?.urn ?? "", /\$kubernetes:core\/v1:ConfigMap::prod-app-flags$/);
    });

    it("fails when prod runs another digest than staging verified", async () => {
      const r = await analyzeCase({
        stack: "prod",
        config: { "env-progression:image": `node:24-alpine@sha256:${"c".repeat(64)}` },
      });
      assert.deepEqual(r.failed, [POLICY.enforceEnvironmentParity]);
      assert.match(r.mandatory[0]?.message ?? "", /image:app.*another digest/);
      assert.doesNotMatch(r.mandatory[0]?.message ?? "", /cccc/);
    });

    it("allows staging's digest against dev's tag of the same repository (dev may use a tag)", async () => {
      const r = await analyzeCase({ stack: "staging" });
      assert.deepEqual(r.failed, []);
    });

    it("fails when a migration differs, and when the env var names differ", async () => {
      const r = await analyzeCase({
        stack: "prod",
        mutate: (run) => {
          change(
            run,
            "-migration-files",
            (p) => (p.data["003_late.sql"] = "ALTER TABLE orders ADD COLUMN x int;"),
          );
          change(run, "-app-deployment", (p) =>
            appContainer(p).env.push({ name: "EXTRA", value: "1" }),
          );
        },
      });
      assert.deepEqual(r.failed, [POLICY.enforceEnvironmentParity]);
      const text = r.mandatory.map((d) => d.message).join("\n");
      assert.match(text, /migration:003_late\.sql/);
      assert.match(text, /envNames:app/);
    });

    it("fails when probes or the security context differ, even with server defaults filled in they stay equal", async () => {
      const same = await analyzeCase({
        stack: "prod",
        mutate: (run) =>
          change(run, "-app-deployment", (p) => {
            // What the API server adds (pkg/apis/core/v1/defaults.go): not a difference.
            Object.assign(appContainer(p).readinessProbe, {
              successThreshold: 1,
              initialDelaySeconds: 0,
            });
            appContainer(p).readinessProbe.httpGet.scheme = "HTTP";
          }),
      });
      assert.deepEqual(same.failed, []);
      const r = await analyzeCase({
        stack: "prod",
        mutate: (run) =>
          change(
            run,
            "-app-deployment",
            (p) => (appContainer(p).readinessProbe.httpGet.path = "/ready"),
          ),
      });
      assert.deepEqual(r.failed, [POLICY.enforceEnvironmentParity]);
      assert.match(r.mandatory[0]?.message ?? "", /probes:app/);
    });

    it("allows what may differ: replicas, resources, hosts, network allowances", async () => {
      const r = await analyzeCase({
        stack: "prod",
        config: {
          "env-progression:replicas": 7,
          "env-progression:host": "shop.example.com",
          "env-progression:resources": {
            requests: { cpu: "200m", memory: "256Mi" },
            limits: { cpu: "1", memory: "512Mi" },
          },
          "env-progression:egressCidrs": ["10.20.0.0/16"],
        },
      });
      assert.deepEqual(r.failed, []);
    });

    it("a valid exception allows the difference; once expired it no longer does", async () => {
      const flagsOff = { "env-progression:featureFlags": ["checkout-v2=off", "search-v2=off"] };
      const run = await realRun("prod");
      const withException = (expires: string) => ({
        ...run.plainConfig,
        "env-progression:parityExceptions": JSON.stringify([
          {
            item: "flag:checkout-v2",
            reason: "checkout v2 waits for the payment provider's prod keys",
            expires,
          },
        ]),
      });
      const valid = await analyzeCase({
        stack: "prod",
        config: flagsOff,
        packEnvConfig: withException("2999-12-31"),
      });
      assert.deepEqual(valid.failed, []);
      const expired = await analyzeCase({
        stack: "prod",
        config: flagsOff,
        packEnvConfig: withException("2000-01-01"),
      });
      assert.deepEqual(expired.failed, [POLICY.enforceEnvironmentParity]);
      assert.match(expired.mandatory[0]?.message ?? "", /exception expired after 2000-01-01/);
    });

    it("an invalid exception is a violation naming the field, not the value", async () => {
      const run = await realRun("prod");
      const r = await analyzeCase({
        stack: "prod",
        packEnvConfig: {
          ...run.plainConfig,
          "env-progression:parityExceptions": JSON.stringify([
            { item: "replicas", reason: "x", expires: "2024-02-30" },
          ]),
        },
      });
      assert.deepEqual(r.failed, [POLICY.enforceEnvironmentParity]);
      const text = r.mandatory.map((d) => d.message).join("\n");
      assert.match(text, /\[0\]\.item may differ/);
      assert.match(text, /\[0\]\.reason is missing or too short/);
      assert.match(text, /\[0\]\.expires is not a real date/);
      assert.doesNotMatch(text, /2024-02-30/);
    });

    it("fails without a baseline, and with the baseline of the wrong environment", async () => {
      const none = await analyzeCase({ stack: "staging", policyConfig: {} });
      assert.deepEqual(none.failed, [POLICY.enforceEnvironmentParity]);
      assert.match(none.mandatory[0]?.message ?? "", /staging has no parity baseline of dev/);
      const wrong = await analyzeCase({
        stack: "prod",
        policyConfig: await realPackConfig("staging"),
      });
      assert.deepEqual(wrong.failed, [POLICY.enforceEnvironmentParity]);
      assert.match(
        wrong.mandatory[0]?.message ?? "",
        /baseline is dev's, but prod is compared with staging/,
      );
    });
  });

  describe("secret scoping", () => {
    /**
     * Prod with dev's value of `key` in place of its own: only the lower-secret policy fails, and
     * its fix names the key the baseline names, not a placeholder.
     */
    async function prodWithDevSecret(key: "dbPassword" | "smokeToken") {
      const configKey = `${PROJECT}:${key}`;
      const r = await analyzeCase({
        stack: "prod",
        secrets: {
          ...canarySecrets("prod"),
          [configKey]: canarySecrets("dev")[configKey] as string,
        },
      });
      assert.deepEqual(r.failed, [POLICY.disallowLowerEnvironmentSecrets]);
      const d = r.mandatory[0];
      const m = d?.message ?? "";
      assert.match(
        m,
        new RegExp(
          `Fix: generate a new value for prod and set it with pulumi config set --secret ${key} <new value> -s prod; rotate the lower environment's value if it was ever shown\\.$`,
        ),
      );
      return { urn: d?.urn ?? "", m };
    }

    it(`refuses a dev secret value set in prod (${POLICY.disallowLowerEnvironmentSecrets})`, async () => {
      const { m } = await prodWithDevSecret("dbPassword");
      assert.match(
        m,
        /Secret app-db-credentials key password holds a value that a lower environment already uses \(dev's config dbPassword\): a secret shared with a lower environment is known to everyone with access there, so prod is only as safe as staging or below/,
      );
      assert.doesNotMatch(m, /<key>/);
    });

    it("refuses a dev smoke token reused in prod, where the smoke test's dynamic resource carries it", async () => {
      const { urn, m } = await prodWithDevSecret("smokeToken");
      assert.match(urn, /\$pulumi-nodejs:dynamic\/env-progression:SmokeRun::prod-smoke-run$/);
      assert.match(
        m,
        /prod-smoke-run: input headers\.Authorization holds a value equal to a lower environment's secret \(dev's config smokeToken\): a secret shared with a lower environment is known to everyone with access there, so prod is only as safe as staging or below/,
      );
      // The dynamic provider keeps header values secret (state holds only an HMAC of them), and a
      // Kubernetes Secret cannot feed its input: neither "plain text" nor "through a Secret" fits.
      assert.doesNotMatch(
        m,
        /in plain text at that|state, diffs and logs|through a Secret of|<key>/,
      );
    });

    it("refuses staging's secret in prod, and a lower secret copied into a plain env var", async () => {
      const staging = canarySecrets("staging")["env-progression:dbPassword"] as string;
      const r = await analyzeCase({
        stack: "prod",
        mutate: (run) =>
          change(run, "-app-deployment", (p) =>
            appContainer(p).env.push({
              name: "DB_URL",
              value: `postgres://app:${staging}@app-db:5432/app`,
            }),
          ),
      });
      assert.ok(r.failed.includes(POLICY.disallowLowerEnvironmentSecrets), r.failed.join());
      assert.ok(
        r.failed.includes(POLICY.disallowPlaintextSecrets),
        "a URL with a password is plaintext",
      );
      const m = r.mandatory.find((d) => d.policyName === POLICY.disallowLowerEnvironmentSecrets);
      assert.match(
        m?.message ?? "",
        /env DB_URL of container app contains a value that a lower environment uses as a secret \(staging's config dbPassword\): a lower environment's secret, and in plain text at that: visible in state, diffs and logs\. Fix: take it out of env DB_URL of container app; a secret that prod needs reaches it through a Secret of this stack, with a value of its own \(pulumi config set --secret dbPassword <new value> -s prod\); and rotate the lower value, which is exposed now \(pulumi config set --secret dbPassword <new value> -s staging\)\.$/,
      );
    });

    it(`refuses a secret in a plain env var, ConfigMap, annotation or command line (${POLICY.disallowPlaintextSecrets})`, async () => {
      const r = await analyzeCase({
        stack: "staging",
        mutate: (run) => {
          change(run, "-app-deployment", (p) => {
            appContainer(p).env.push({ name: "API_TOKEN", value: "tok_live_abcdef123456" });
            appContainer(p).args = ["--db-password=hunter2hunter2"];
            p.metadata.annotations["example.com/client-secret"] = "s3cr3t-s3cr3t";
          });
          change(
            run,
            "-app-flags",
            (p) => (p.data["app.env"] = "STRIPE_KEY=sk_live_123456789\nLOG_LEVEL=info\n"),
          );
        },
      });
      assert.deepEqual(r.failed, [
        POLICY.disallowPlaintextSecrets,
        POLICY.enforceEnvironmentParity,
      ]);
      const text = r.mandatory
        .filter((d) => d.policyName === POLICY.disallowPlaintextSecrets)
        .map((d) => d.message)
        .join("\n");
      assert.match(text, /env API_TOKEN of container app/);
      assert.match(text, /command and args of container app .*db-password/);
      assert.match(text, /annotation example\.com\/client-secret/);
      assert.match(text, /ConfigMap key app\.env .*STRIPE_KEY/);
      for (const v of [
        "tok_live_abcdef123456",
        "hunter2hunter2",
        "s3cr3t-s3cr3t",
        "sk_live_123456789",
      ])
        assert.ok(!text.includes(v), "never the value");
    });

    it(`refuses a secretKeyRef to a Secret the stack does not manage (${POLICY.disallowUnmanagedSecretReferences})`, async () => {
      const r = await analyzeCase({
        stack: "prod",
        mutate: (run) =>
          change(run, "-app-deployment", (p) =>
            appContainer(p).env.push({
              name: "SHARED_KEY",
              valueFrom: { secretKeyRef: { name: "shared-credentials", key: "key" } },
            }),
          ),
      });
      assert.ok(r.failed.includes(POLICY.disallowUnmanagedSecretReferences), r.failed.join());
      assert.match(
        r.mandatory.find((d) => d.policyName === POLICY.disallowUnmanagedSecretReferences)
          ?.message ?? "",
        /env SHARED_KEY of container app refers to Secret shared-credentials/,
      );
    });

    it("refuses a workload of this stack placed in another environment's namespace", async () => {
      const r = await analyzeCase({
        stack: "prod",
        mutate: (run) => change(run, "-migration-job", (p) => (p.metadata.namespace = "app-dev")),
      });
      assert.ok(r.failed.includes(POLICY.disallowUnmanagedSecretReferences), r.failed.join());
      assert.match(
        r.mandatory.find((d) => d.policyName === POLICY.disallowUnmanagedSecretReferences)
          ?.message ?? "",
        /runs in namespace app-dev, which is not this environment's/,
      );
    });
  });

  describe("isolation", () => {
    it(`refuses a NetworkPolicy opened to all namespaces (${POLICY.disallowAllNamespacesSelector})`, async () => {
      const r = await analyzeCase({
        stack: "staging",
        mutate: (run) =>
          change(
            run,
            "-allow-ingress-controller",
            (p) => (p.spec.ingress[0].from = [{ namespaceSelector: {} }]),
          ),
      });
      assert.ok(r.failed.includes(POLICY.disallowAllNamespacesSelector), r.failed.join());
      assert.ok(
        r.failed.includes(POLICY.disallowCrossEnvironmentTraffic),
        "{} reaches the other environments too",
      );
      assert.match(
        r.mandatory.find((d) => d.policyName === POLICY.disallowAllNamespacesSelector)?.message ??
          "",
        /selects every namespace/,
      );
    });

    it("refuses a rule without from (it admits every namespace)", async () => {
      const r = await analyzeCase({
        stack: "dev",
        mutate: (run) => change(run, "-allow-same-namespace", (p) => (p.spec.ingress = [{}])),
      });
      assert.ok(r.failed.includes(POLICY.disallowAllNamespacesSelector), r.failed.join());
    });

    it("refuses a namespace selected by a label anyone can set (the article's environment: prod)", async () => {
      const r = await analyzeCase({
        stack: "prod",
        mutate: (run) =>
          change(
            run,
            "-allow-ingress-controller",
            (p) =>
              (p.spec.ingress[0].from = [
                { namespaceSelector: { matchLabels: { environment: "prod" } } },
              ]),
          ),
      });
      assert.ok(r.failed.includes(POLICY.disallowMutableNamespaceSelector), r.failed.join());
      assert.match(
        r.mandatory.find((d) => d.policyName === POLICY.disallowMutableNamespaceSelector)
          ?.message ?? "",
        /by label environment/,
      );
    });

    it(`refuses a rule that reaches another environment's namespace (${POLICY.disallowCrossEnvironmentTraffic})`, async () => {
      const r = await analyzeCase({
        stack: "staging",
        mutate: (run) =>
          change(run, "-allow-dns", (p) =>
            p.spec.egress.push({
              to: [
                {
                  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "app-prod" } },
                },
              ],
            }),
          ),
      });
      assert.deepEqual(r.failed, [POLICY.disallowCrossEnvironmentTraffic]);
      assert.match(
        r.mandatory[0]?.message ?? "",
        /egress rule 1 reaches namespace app-prod \(prod\)/,
      );
    });

    it(`refuses a namespace without a default deny, or with one for ingress only (${POLICY.missingDefaultDenyNetworkPolicy})`, async () => {
      // Every NetworkPolicy prod's stack creates (model/network.ts), by role.
      const prodPolicies = [
        "default-deny",
        "allow-same-namespace",
        "allow-dns",
        "allow-ingress-controller",
      ];
      // Any policy selecting every pod isolates it, so deleting only default-deny still denies by default.
      const onlyDefaultDeny = await analyzeCase({
        stack: "prod",
        mutate: (run) => remove(run, "-network-default-deny"),
      });
      assert.deepEqual(onlyDefaultDeny.failed, []);
      const none = await analyzeCase({
        stack: "prod",
        mutate: (run) => {
          for (const role of prodPolicies) remove(run, `-network-${role}`);
        },
      });
      assert.deepEqual(none.failed, [POLICY.missingDefaultDenyNetworkPolicy]);
      assert.equal(none.mandatory.length, 2, "ingress and egress");
      const somePodsOnly = await analyzeCase({
        stack: "prod",
        mutate: (run) => {
          for (const role of prodPolicies) {
            change(
              run,
              `-network-${role}`,
              (p) =>
                (p.spec.podSelector = {
                  matchLabels: { "app.kubernetes.io/component": "database" },
                }),
            );
          }
        },
      });
      assert.deepEqual(somePodsOnly.failed, [POLICY.missingDefaultDenyNetworkPolicy]);
      const ingressOnly = await analyzeCase({
        stack: "prod",
        mutate: (run) => {
          change(run, "-network-default-deny", (p) => (p.spec.policyTypes = ["Ingress"]));
          change(run, "-allow-same-namespace", (p) => (p.spec.policyTypes = ["Ingress"]));
          remove(run, "-allow-dns");
        },
      });
      assert.deepEqual(ingressOnly.failed, [POLICY.missingDefaultDenyNetworkPolicy]);
      assert.match(
        ingressOnly.mandatory[0]?.message ?? "",
        /namespace app-prod: some pods are not isolated for egress/,
      );
    });

    it(`refuses egress to 0.0.0.0/0 in prod, and allows it in dev (${POLICY.disallowInternetEgressInProd})`, async () => {
      const prod = await analyzeCase({
        stack: "prod",
        config: { "env-progression:egressCidrs": ["0.0.0.0/0"] },
      });
      assert.deepEqual(prod.failed, [POLICY.disallowInternetEgressInProd]);
      const dev = await analyzeCase({ stack: "dev" });
      assert.deepEqual(dev.failed, []);
    });
  });

  describe("workload safety", () => {
    it(`refuses an unpinned image in staging, and allows a tag in dev (${POLICY.enforceImageDigestPin})`, async () => {
      const r = await analyzeCase({
        stack: "staging",
        config: { "env-progression:image": "node:24-alpine" },
      });
      assert.deepEqual(r.failed, [POLICY.enforceImageDigestPin]);
      assert.match(
        r.mandatory[0]?.message ?? "",
        /the image of container app is not pinned by digest in staging/,
      );
      assert.doesNotMatch(r.mandatory[0]?.message ?? "", /node:24-alpine/);
    });

    it(`refuses fewer than 2 replicas in staging (${POLICY.enforceMinimumReplicas})`, async () => {
      const r = await analyzeCase({ stack: "staging", config: { "env-progression:replicas": 1 } });
      assert.deepEqual(r.failed, [POLICY.enforceMinimumReplicas]);
    });

    it(`refuses a Deployment without a PodDisruptionBudget in prod (${POLICY.missingPodDisruptionBudget})`, async () => {
      const r = await analyzeCase({ stack: "prod", mutate: (run) => remove(run, "-app-pdb") });
      assert.deepEqual(r.failed, [POLICY.missingPodDisruptionBudget]);
    });

    it(`refuses a migration without lock_timeout outside dev, and allows it in dev (${POLICY.missingMigrationLockTimeout})`, async () => {
      const prod = await analyzeCase({
        stack: "prod",
        config: { "env-progression:lockTimeout": "0" },
      });
      assert.deepEqual(prod.failed, [POLICY.missingMigrationLockTimeout]);
      assert.match(prod.mandatory[0]?.message ?? "", /disables lock_timeout/);
      const unset = await analyzeCase({
        stack: "staging",
        mutate: (run) =>
          change(
            run,
            "-migration-job",
            (p) =>
              (p.spec.template.spec.containers[0].env =
                p.spec.template.spec.containers[0].env.filter(
                  (e: any) => e.name !== "LOCK_TIMEOUT",
                )),
          ),
      });
      assert.deepEqual(unset.failed, [POLICY.missingMigrationLockTimeout]);
      const dev = await analyzeCase({
        stack: "dev",
        config: { "env-progression:lockTimeout": "0" },
      });
      assert.deepEqual(dev.failed, []);
    });

    it("checks pods added outside the program's components too (a bare Pod)", async () => {
      const r = await analyzeCase({
        stack: "prod",
        mutate: (run) =>
          add(run, "-app-deployment", "kubernetes:core/v1:Pod", "debug", {
            apiVersion: "v1",
            kind: "Pod",
            metadata: {
              name: "debug",
              namespace: "app-prod",
              labels: { "env-progression/environment": "prod" },
            },
            spec: { containers: [{ name: "sh", image: "busybox" }] },
          }),
      });
      assert.deepEqual(r.failed, [
        POLICY.enforceImageDigestPin,
        POLICY.enforceRestrictedPodSecurity,
        POLICY.missingContainerResources,
        POLICY.missingHealthProbes,
      ]);
    });
  });

  describe("values unknown during preview (pulumi/pulumi-policy#258)", () => {
    const unknownEverywhere = (run: any) => {
      change(run, "-app-deployment", (p) => {
        appContainer(p).image = UNKNOWN_STRING;
        appContainer(p).env[2].value = UNKNOWN_STRING;
        p.metadata.namespace = UNKNOWN_STRING;
        p.spec.template.spec.securityContext = UNKNOWN_STRING;
      });
      change(run, "-db-credentials", (p) => (p.stringData = UNKNOWN_STRING));
      change(run, "-app-flags", (p) => (p.data["flags.json"] = UNKNOWN_STRING));
      change(run, "-network-allow-dns", (p) => (p.spec.egress[0].to = UNKNOWN_STRING));
      change(
        run,
        "-migration-job",
        (p) => (p.spec.template.spec.containers[0].env = UNKNOWN_STRING),
      );
      if (run.stack === "prod")
        change(run, "-app-hpa", (p) => (p.spec.minReplicas = UNKNOWN_STRING));
    };

    for (const env of ["staging", "prod"] as EnvName[]) {
      it(`${env}: no mandatory violation, only the SDK's "can't run during preview" advisories`, async () => {
        const r = await analyzeCase({ stack: env, preview: true, mutate: unknownEverywhere });
        assert.deepEqual(r.failed, [], r.mandatory.map((d) => d.message).join("\n"));
        assert.ok(r.diagnostics.length > 0, "the skipped checks are reported");
        for (const d of r.diagnostics) {
          assert.equal(d.enforcementLevel, "advisory");
          assert.match(
            d.message,
            /can't run policy '[a-z-]+' from policy pack 'env-progression@v0\.1\.0' during preview: .* can't be known during preview/,
          );
        }
      });
    }

    it("still reports the violations on known values of the same resource", async () => {
      const r = await analyzeCase({
        stack: "prod",
        preview: true,
        mutate: (run) =>
          change(run, "-app-deployment", (p) => {
            appContainer(p).image = UNKNOWN_STRING;
            appContainer(p).securityContext.runAsUser = 0;
          }),
      });
      // UID 0 also makes the container's security context differ from staging's.
      assert.deepEqual(r.failed, [
        POLICY.enforceEnvironmentParity,
        POLICY.enforceRestrictedPodSecurity,
      ]);
      assert.match(
        r.mandatory.find((d) => d.policyName === POLICY.enforceEnvironmentParity)?.message ?? "",
        /securityContext:app/,
      );
      assert.ok(
        !r.mandatory.some((d) => /image:app|not pinned/.test(d.message)),
        "the unknown image is not a violation",
      );
      const advisory = r.diagnostics
        .filter((d) => d.enforcementLevel === "advisory")
        .map((d) => d.policyName);
      assert.ok(advisory.includes(POLICY.enforceImageDigestPin), advisory.join());
    });
  });
});
