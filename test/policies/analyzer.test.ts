/**
 * tools/analyzer.ts: what the harness sends is what the engine sends. The registrations are the
 * ones tools/evaluate.ts records; URNs, parents, providers, options and the policy config follow
 * the engine's rules (pulumi/pulumi analyzer_plugin.go, ReconcilePolicyPackConfig).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as engineGrpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as enginePb from "@pulumi/pulumi/proto/engine_pb";
import {
  EngineServer,
  type PackInfo,
  policyView,
  reconcilePolicyConfig,
  runPolicyPackScript,
  PACK_DIR,
  PolicyPackProcess,
} from "../../tools/analyzer";
import { goDurationSeconds } from "../../tools/verify/registrations";
import { realRun } from "./support";

const P = "urn:pulumi:prod::env-progression::";

describe("tools/analyzer: the engine's side of the Analyzer protocol", () => {
  it("describes the registrations evaluateStack records, with engine URNs, parents, providers and options", async () => {
    const run = await realRun("prod");
    assert.deepEqual(
      run.registrations.map((r) => r.name).sort(),
      run.evaluation.resources.map((r) => r.name).sort(),
      "the same registrations tools/evaluate.ts records",
    );
    const byName = new Map(run.view.analyzeStack.map((r) => [r.name, r]));
    const ns = byName.get("prod-ns-namespace");
    assert.equal(
      ns?.urn,
      `${P}env-progression:environment:Environment$env-progression:namespace:EnvironmentNamespace$kubernetes:core/v1:Namespace::prod-ns-namespace`,
    );
    assert.equal(ns?.parent, byName.get("prod-ns")?.urn);
    assert.equal(byName.get("prod")?.parent, `${P}pulumi:pulumi:Stack::env-progression-prod`);
    // The SDK names its default provider after the plugin version its package declares.
    const k8sVersion = (require("@pulumi/kubernetes/package.json") as { version: string }).version;
    assert.equal(ns?.provider?.urn, `${P}pulumi:providers:kubernetes::default_${k8sVersion.replace(/\./g, "_")}`);
    assert.equal(byName.get("prod-ns")?.provider, undefined, "components have no provider");
    assert.deepEqual(byName.get("prod-migration-job")?.options.customTimeouts, {
      create: 900,
      update: 900,
      delete: 0,
    });
    assert.ok(
      byName
        .get("prod-app-deployment")
        ?.dependencies?.includes(byName.get("prod-migration-job")?.urn as string),
    );
    // AnalyzeStack gets outputs (the mock's state: auto-names filled in), Analyze the inputs
    const flagsOut = byName.get("prod-app-flags")?.properties as { metadata: { name?: string } };
    const flagsIn = run.view.analyze.find((r) => r.name === "prod-app-flags")?.properties as {
      metadata: { name?: string };
    };
    assert.match(flagsOut.metadata.name ?? "", /^prod-app-flags-[0-9a-f]{8}$/);
    assert.equal(flagsIn.metadata.name, undefined);
    // the root stack and the default provider are part of the stack, as the engine has them
    assert.equal(run.view.analyzeStack[0]?.type, "pulumi:pulumi:Stack");
    assert.ok(run.view.analyzeStack.some((r) => r.type === "pulumi:providers:kubernetes"));
  });

  it("shows the policy secrets unwrapped, as @pulumi/policy deserializes them", async () => {
    const run = await realRun("prod");
    const secret = run.view.analyze.find((r) => r.name === "prod-db-credentials");
    const wire = secret?.properties.stringData as Record<string, unknown>;
    assert.equal(
      wire["4dabf18193072939515e22adb298388d"],
      "1b47061264138c4ac30d75fd1eb44270",
      "sent as a secret",
    );
    assert.deepEqual(
      Object.keys((policyView(secret?.properties) as { stringData: object }).stringData),
      ["password"],
    );
  });

  it("reconciles the policy config as the engine: every policy at its level, schema defaults, the file over them", () => {
    const info: PackInfo = {
      name: "p",
      version: "1",
      supportsConfig: true,
      policies: [
        {
          name: "a",
          description: "",
          enforcementLevel: "mandatory",
          type: "stack",
          configSchema: {
            properties: { baseline: { type: "object" }, n: { type: "integer", default: 3 } },
            required: [],
          },
        },
        { name: "b", description: "", enforcementLevel: "advisory", type: "resource" },
      ],
    };
    const ok = reconcilePolicyConfig(info, { a: { baseline: { x: 1 } }, b: "disabled" });
    assert.deepEqual(ok, {
      config: {
        a: { enforcementLevel: "mandatory", properties: { n: 3, baseline: { x: 1 } } },
        b: { enforcementLevel: "disabled", properties: {} },
      },
      errors: [],
    });
    assert.deepEqual(reconcilePolicyConfig(info, { a: { baseline: [1] }, c: "mandatory" }).errors, [
      'policy pack config: "c" is not a policy of p',
      "policy pack config: a: baseline must be of type object",
    ]);
  });

  it("converts Go durations as the engine converts custom timeouts", () => {
    assert.equal(goDurationSeconds("15m"), 900);
    assert.equal(goDurationSeconds("1h30m"), 5400);
    assert.equal(goDurationSeconds("1.5s"), 1.5);
    assert.equal(goDurationSeconds(""), 0);
  });

  it("resolves run-policy-pack from the pack's directory, as pulumi-analyzer-policy does", () => {
    // The CLI's script runs exactly this in the pack's directory (sdk/nodejs/dist/pulumi-analyzer-policy):
    // policies/ has no node_modules of its own, and Node's resolution walks up to the repository's.
    const shim = spawnSync(
      process.execPath,
      ["-e", "console.log(require.resolve('@pulumi/pulumi/cmd/run-policy-pack'))"],
      {
        cwd: PACK_DIR,
        encoding: "utf8",
      },
    );
    assert.equal(shim.stdout.trim(), runPolicyPackScript(PACK_DIR));
    assert.match(
      runPolicyPackScript(PACK_DIR),
      /node_modules\/@pulumi\/pulumi\/cmd\/run-policy-pack\/index\.js$/,
    );
  });

  it("type-checks the pack as the engine's host does; typeCheck: false (verify's host) skips only that", async function () {
    this.timeout(120_000);
    // A pack of its own outside the repository, resolving @pulumi/policy through a node_modules link.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pack-typecheck-"));
    try {
      fs.symlinkSync(path.join(PACK_DIR, "..", "node_modules"), path.join(dir, "node_modules"));
      fs.writeFileSync(path.join(dir, "PulumiPolicy.yaml"), "runtime: nodejs\n");
      fs.writeFileSync(
        path.join(dir, "package.json"),
        '{"name": "t", "version": "1.0.0", "main": "index.ts"}\n',
      );
      fs.writeFileSync(
        path.join(dir, "index.ts"),
        [
          'import { PolicyPack } from "@pulumi/policy";',
          'const level: number = "not a number";',
          'new PolicyPack("typecheck-probe", {',
          '  policies: [{ name: "p", description: "A probe.", enforcementLevel: "advisory",',
          "    validateResource: () => undefined }],",
          "});",
          "export { level };",
          "",
        ].join("\n"),
      );
      const ctx = {
        ...{ stack: "dev", project: "p", dryRun: true, config: {}, configSecretKeys: [], tags: {} },
        packDir: dir,
      };
      await assert.rejects(
        PolicyPackProcess.start({ ...ctx, startTimeoutMs: 60_000 }),
        /exited \(\d+\) before printing its port:[\s\S]*TS2322/,
      );
      const pack = await PolicyPackProcess.start({ ...ctx, typeCheck: false });
      try {
        assert.equal(pack.info.name, "typecheck-probe");
        assert.deepEqual(
          pack.info.policies.map((p) => p.name),
          ["p"],
        );
      } finally {
        await pack.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs a real Engine service whose Log captures what a plugin sends", async () => {
    const engine = new EngineServer();
    const address = await engine.start();
    const client = new engineGrpc.EngineClient(address, grpc.credentials.createInsecure());
    const req = new enginePb.LogRequest();
    req.setSeverity(enginePb.LogSeverity.WARNING);
    req.setMessage("hello from a plugin");
    await new Promise<void>((resolve, reject) =>
      client.log(req, (err) => (err ? reject(err) : resolve())),
    );
    client.close();
    await engine.close();
    assert.deepEqual(engine.logs, [
      { severity: enginePb.LogSeverity.WARNING, message: "hello from a plugin", urn: "" },
    ]);
  });
});
