import assert from "node:assert/strict";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { classifyFailure, cleanMessage, isSmokeUrn } from "../../tools/promote/failure";
import { SMOKE_RUN_TYPE, smokeFailureLine } from "../../model/smoke";
import { urnName } from "../../model/urn";

let sequence = 0;
function event(body: Omit<EngineEvent, "sequence" | "timestamp">): EngineEvent {
  sequence += 1;
  return { sequence, timestamp: 1_700_000_000 + sequence, ...body };
}

const SMOKE_URN = `urn:pulumi:staging::env-progression::env-progression:smoke:SmokeTest$${SMOKE_RUN_TYPE}::staging-smoke-run`;
/** What the smoke provider's error starts with when the version check failed (smoke/report.ts). */
const VERSION_FAILED = smokeFailureLine(
  { baseUrl: "http://staging.example.com", failed: ["version"], total: 4 },
  " in 1.2 s",
);
const DEPLOYMENT_URN =
  "urn:pulumi:staging::env-progression::env-progression:workload:Workload$kubernetes:apps/v1:Deployment::staging-app";

function diagnostic(
  message: string,
  urn?: string,
  severity: "error" | "warning" | "info" = "error",
): EngineEvent {
  return event({ diagnosticEvent: { message, color: "never", severity, ...(urn ? { urn } : {}) } });
}

function policy(
  level: "mandatory" | "warning",
  name: string,
  message: string,
  urn?: string,
): EngineEvent {
  return event({
    policyEvent: {
      message,
      color: "never",
      policyName: name,
      policyPackName: "env-progression",
      policyPackVersion: "0.1.0",
      policyPackVersionTag: "0.1.0",
      enforcementLevel: level,
      ...(urn ? { resourceUrn: urn } : {}),
    },
  });
}

const updateFailed = diagnostic("update failed");
const commandError = new Error("code: 255\n stdout: \n stderr: error: update failed\n");

describe("classifyFailure", () => {
  it("a mandatory policy violation is a policy failure, with the policy and the resource", () => {
    const failure = classifyFailure(
      "preview",
      [
        policy("warning", "missing-resource-limits", "advisory only", DEPLOYMENT_URN),
        policy(
          "mandatory",
          "enforce-environment-parity",
          "Flag `checkout` differs from dev.\nAlign it or list it as an allowed difference.",
          DEPLOYMENT_URN,
        ),
        policy("mandatory", "disallow-lower-environment-secrets", "A dev secret is reused."),
        diagnostic("preview failed"),
      ],
      commandError,
    );
    assert.deepEqual(failure, {
      step: "policy",
      reason:
        "enforce-environment-parity (staging-app): Flag `checkout` differs from dev. | Align it or list it as an allowed difference. (and 1 more violation(s))",
    });
  });

  it("advisory policy events alone are not a policy failure", () => {
    const failure = classifyFailure(
      "up",
      [
        policy("warning", "missing-resource-limits", "advisory"),
        diagnostic("boom: quota exceeded", DEPLOYMENT_URN),
      ],
      commandError,
    );
    assert.equal(failure.step, "up");
  });

  it("an error on a resource owned by the smoke component is a smoke failure, whatever its wording", () => {
    const failure = classifyFailure(
      "up",
      [
        diagnostic(
          "Error: critical action: POST /api/test-action returned 500\n    at check (/app/smoke.js:10:5)",
          SMOKE_URN,
        ),
        updateFailed,
      ],
      commandError,
    );
    assert.deepEqual(failure, {
      step: "smoke",
      reason: "Error: critical action: POST /api/test-action returned 500",
    });
  });

  it("the run's line names the failed checks, and counts without a smoke URN too", () => {
    const failure = classifyFailure(
      "up",
      [
        diagnostic(
          `pulumi-nodejs:dynamic:Resource (staging-smoke):\n    error: Error: ${VERSION_FAILED}\n  ✗ version: GET http://staging.example.com/api/version\n    at Object.create`,
          "urn:pulumi:staging::env-progression::pulumi-nodejs:dynamic:Resource::staging-smoke",
        ),
        updateFailed,
      ],
      commandError,
    );
    assert.deepEqual(failure, {
      step: "smoke",
      reason: "1 of 4 checks failed (version) against http://staging.example.com",
      smoke: { baseUrl: "http://staging.example.com", failed: ["version"], total: 4 },
    });
  });

  it("prose that only mentions smoke tests, on a resource that is not one, is not a smoke failure", () => {
    const failure = classifyFailure(
      "up",
      [diagnostic("smoke tests failed: version: expected 1.3.0", DEPLOYMENT_URN), updateFailed],
      commandError,
    );
    assert.equal(failure.step, "up");
  });

  it("a failed operation on the smoke resource with no diagnostic is still a smoke failure", () => {
    const failure = classifyFailure(
      "up",
      [
        event({
          resOpFailedEvent: {
            status: 1,
            steps: 1,
            metadata: {
              op: "create",
              urn: SMOKE_URN,
              type: "pulumi-nodejs:dynamic:Resource",
              provider: "",
            },
          },
        }),
      ],
      commandError,
    );
    assert.deepEqual(failure, { step: "smoke", reason: "staging-smoke-run failed" });
  });

  it("the run's line in the CLI's stderr counts when no event carried it", () => {
    const line = smokeFailureLine({
      baseUrl: "http://s",
      failed: ["health", "database"],
      total: 4,
    });
    const failure = classifyFailure("up", [], new Error(`stderr: error: ${line}`));
    assert.deepEqual(failure, {
      step: "smoke",
      reason: "2 of 4 checks failed (health, database) against http://s",
      smoke: { baseUrl: "http://s", failed: ["health", "database"], total: 4 },
    });
  });

  it("any other error is a failure of the operation, naming the resource", () => {
    const failure = classifyFailure(
      "up",
      [
        diagnostic("warning only", DEPLOYMENT_URN, "warning"),
        diagnostic(
          '  <{%fg 1%}>1 error occurred:<{%reset%}>\n\t* the Kubernetes API server reported that "staging/staging-app" failed to fully initialize',
          DEPLOYMENT_URN,
        ),
        updateFailed,
      ],
      commandError,
    );
    assert.deepEqual(failure, {
      step: "up",
      reason:
        'staging-app: 1 error occurred: | * the Kubernetes API server reported that "staging/staging-app" failed to fully initialize',
    });
  });

  it("an ephemeral error diagnostic is ignored in favour of the lasting one", () => {
    const failure = classifyFailure(
      "preview",
      [
        event({
          diagnosticEvent: {
            message: "retrying",
            color: "never",
            severity: "error",
            ephemeral: true,
          },
        }),
        diagnostic("config key missing: env-progression:image"),
      ],
      commandError,
    );
    assert.deepEqual(failure, {
      step: "preview",
      reason: "config key missing: env-progression:image",
    });
  });

  it("with no events at all, the CLI's own error line", () => {
    const failure = classifyFailure(
      "preview",
      [],
      new Error(
        "code: 255\n stdout: \n stderr: warning: A new version of Pulumi is available.\nerror: no stack named 'staging' found\n",
      ),
    );
    assert.deepEqual(failure, { step: "preview", reason: "error: no stack named 'staging' found" });
  });
});

describe("URN helpers", () => {
  it("finds the smoke component anywhere in the type chain, and nowhere else", () => {
    assert.equal(isSmokeUrn(SMOKE_URN), true);
    assert.equal(
      isSmokeUrn("urn:pulumi:dev::env-progression::env-progression:smoke:SmokeTest::dev-smoke"),
      true,
    );
    assert.equal(isSmokeUrn(DEPLOYMENT_URN), false);
    // The name is not the type: a resource merely *named* after smoke is not one.
    assert.equal(
      isSmokeUrn(
        "urn:pulumi:dev::env-progression::kubernetes:core/v1:ConfigMap::env-progression:smoke:x",
      ),
      false,
    );
    assert.equal(isSmokeUrn(undefined), false);
  });

  it("names a resource by its URN's last part", () => {
    assert.equal(urnName(DEPLOYMENT_URN), "staging-app");
    assert.equal(urnName("not-a-urn"), "not-a-urn");
  });

  it("strips color directives and ANSI escapes, joining lines", () => {
    assert.equal(
      cleanMessage("<{%fg 1%}>bad<{%reset%}>\n\n  \u001b[31mworse\u001b[0m "),
      "bad | worse",
    );
  });
});
