/**
 * The SmokeTest component under the SDK's in-process mocks: what it registers, what it waits for,
 * what it keeps secret, and the arguments it refuses before registering anything.
 */
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { CONTRACT_CHECKS } from "../../smoke/contract";
import {
  CANARY,
  isSecretValue,
  registerSmokeTest,
  RUN_REPORTED_VERSION,
  SMOKE_RUN_TYPE,
  SMOKE_TEST_TYPE,
  TOKEN_HEADER,
  TYPICAL_ARGS,
  unsecret,
} from "./support";

describe("SmokeTest component (under the SDK's mocks)", () => {
  it("registers a component and its dynamic run, child of it, with the contract's checks", async () => {
    const { resources, verifiedVersion, checks, secretOutputs } =
      await registerSmokeTest(TYPICAL_ARGS);
    const component = resources.find((r) => r.type === SMOKE_TEST_TYPE);
    const run = resources.find((r) => r.type === SMOKE_RUN_TYPE);
    assert.ok(component !== undefined && run !== undefined);
    assert.equal(component.name, "staging-smoke");
    assert.equal(run.name, "staging-smoke-run");
    assert.equal(run.parent, "staging-smoke");
    assert.deepEqual(run.inputs.checks, CONTRACT_CHECKS);
    assert.equal(run.inputs.baseUrl, "https://staging.example.com");
    assert.equal(run.inputs.expectVersion, "1.4.0");
    assert.equal(run.inputs.requestTimeoutMs, 10_000);
    assert.equal(run.inputs.deadlineMs, 60_000);
    assert.equal(typeof unsecret(run.inputs.__provider), "string");
    assert.notEqual(RUN_REPORTED_VERSION, TYPICAL_ARGS.expectVersion);
    assert.equal(verifiedVersion, RUN_REPORTED_VERSION, "verifiedVersion is not the run's output");
    assert.deepEqual(checks, [{ name: "health", ok: true, latencyMs: 3, status: 200 }]);
    assert.deepEqual(
      secretOutputs,
      [],
      "the component's outputs hold no secret, so they stay readable",
    );
  });

  it("sends the headers as a secret, even when the caller passed them in plaintext", async () => {
    const { resources } = await registerSmokeTest({
      ...TYPICAL_ARGS,
      headers: { [TOKEN_HEADER]: CANARY },
    });
    const run = resources.find((r) => r.type === SMOKE_RUN_TYPE);
    assert.ok(run !== undefined);
    assert.ok(isSecretValue(run.inputs.headers), "headers are not a secret");
    assert.deepEqual(unsecret(run.inputs.headers), { [TOKEN_HEADER]: CANARY });
    const others = Object.entries(run.inputs).filter(([k]) => k !== "headers");
    assert.ok(!JSON.stringify(others).includes(CANARY), "the secret is in another input");
  });

  it("makes the run wait for what the component was told to depend on", async () => {
    const { resources } = await registerSmokeTest(TYPICAL_ARGS, { withDependency: true });
    const run = resources.find((r) => r.type === SMOKE_RUN_TYPE);
    assert.ok(run !== undefined);
    assert.ok(run.dependsOn.includes("app"), `the run depends on ${JSON.stringify(run.dependsOn)}`);
  });

  it("takes its timeouts in seconds and its checks from the caller", async () => {
    const checks = [{ name: "ready", method: "GET" as const, path: "/ready" }];
    const { resources } = await registerSmokeTest({
      baseUrl: "http://dev.example.com",
      requestTimeoutSeconds: 2.5,
      deadlineSeconds: 30,
      trigger: "2024-06-01",
      checks,
    });
    const run = resources.find((r) => r.type === SMOKE_RUN_TYPE);
    assert.ok(run !== undefined);
    assert.equal(run.inputs.requestTimeoutMs, 2500);
    assert.equal(run.inputs.deadlineMs, 30_000);
    assert.equal(run.inputs.trigger, "2024-06-01");
    assert.deepEqual(run.inputs.checks, checks);
  });

  it("registers during preview as well (the provider decides in diff whether to run)", async () => {
    const { resources } = await registerSmokeTest(
      { ...TYPICAL_ARGS, baseUrl: pulumi.output("https://x.example.com") },
      { preview: true },
    );
    assert.ok(resources.some((r) => r.type === SMOKE_RUN_TYPE));
  });

  it("refuses bad arguments before registering anything, naming the field", async () => {
    const cases: [Partial<Parameters<typeof registerSmokeTest>[0]>, RegExp][] = [
      [{ deadlineSeconds: 0 }, /deadlineSeconds must be a positive number of seconds, got 0/],
      [{ requestTimeoutSeconds: Number.NaN }, /requestTimeoutSeconds must be a positive number/],
      [{ checks: [] }, /checks must be a non-empty list/],
      [
        {
          checks: [
            { name: "a", method: "GET", path: "/a" },
            { name: "a", method: "GET", path: "/b" },
          ],
        },
        /checks\[1\]\.name "a" is used twice/,
      ],
    ];
    for (const [bad, message] of cases) {
      await assert.rejects(registerSmokeTest({ ...TYPICAL_ARGS, ...bad }), message);
    }
  });
});
