/**
 * The bad-config corpus: each case changes one thing in a real stack's config and runs the real
 * program under the SDK's engine. Each gets one clear line naming the file, the key, what it holds
 * and what is expected; the program throws a RunError (printed without a stack trace); and not a
 * single resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import { canarySecrets, evaluateStack, EvaluateOptions } from "../support/program";

interface Case {
  name: string;
  stack: "dev" | "staging" | "prod";
  opts: EvaluateOptions;
  /** Every line expected in the error, in order. */
  expect: RegExp[];
}

const P = "env-progression";

const corpus: Case[] = [
  {
    name: "a typo of a known key in prod",
    stack: "prod",
    opts: { config: { [`${P}:replica`]: 3 } },
    expect: [/^Pulumi\.prod\.yaml: env-progression:replica is not a known key; expected did you mean env-progression:replicas\?$/],
  },
  {
    name: "an unknown key with no near match",
    stack: "staging",
    opts: { config: { [`${P}:colour`]: "blue" } },
    expect: [/^Pulumi\.staging\.yaml: env-progression:colour is not a known key; expected one of .*replicas/],
  },
  {
    name: "a key in a namespace nothing reads",
    stack: "dev",
    opts: { config: { "env-progresion:replicas": 2 } },
    expect: [/^Pulumi\.dev\.yaml: env-progresion:replicas is in namespace "env-progresion", which nothing reads; expected env-progression:<key>/],
  },
  {
    name: "replicas that is not a number",
    stack: "staging",
    opts: { config: { [`${P}:replicas`]: "three" } },
    expect: [/^Pulumi\.staging\.yaml: env-progression:replicas is "three"; expected a whole number from 0 to 1000\.$/],
  },
  {
    name: "a negative replica count",
    stack: "dev",
    opts: { config: { [`${P}:replicas`]: -1 } },
    expect: [/^Pulumi\.dev\.yaml: env-progression:replicas is "-1"; expected a whole number from 0 to 1000\.$/],
  },
  {
    name: "a missing required key",
    stack: "prod",
    opts: { config: { [`${P}:host`]: undefined } },
    expect: [/^Pulumi\.prod\.yaml: env-progression:host is missing; expected a DNS host name such as staging\.example\.com \(pulumi config set host <value> -s prod\)\.$/],
  },
  {
    name: "maxReplicas below replicas",
    stack: "prod",
    opts: { config: { [`${P}:maxReplicas`]: 2 } },
    expect: [/^Pulumi\.prod\.yaml: env-progression:maxReplicas is 2, below replicas \(5\); expected a number at least as large as replicas\.$/],
  },
  {
    name: "a host that is not a DNS name",
    stack: "staging",
    opts: { config: { [`${P}:host`]: "https://staging.example.com/" } },
    expect: [/^Pulumi\.staging\.yaml: env-progression:host is "https:\/\/staging\.example\.com\/"; expected a DNS host name/],
  },
  {
    name: "an image reference that is not one",
    stack: "dev",
    opts: { config: { [`${P}:image`]: "Node:24 alpine" } },
    expect: [/^Pulumi\.dev\.yaml: env-progression:image is "Node:24 alpine"; expected an image reference/],
  },
  {
    name: "a feature flag written as a bare name",
    stack: "staging",
    opts: { config: { [`${P}:featureFlags`]: ["checkout-v2"] } },
    expect: [/^Pulumi\.staging\.yaml: env-progression:featureFlags\[0\] is "\\"checkout-v2\\""; expected flags written name=on or name=off/],
  },
  {
    name: "feature flags as a map instead of a list",
    stack: "prod",
    opts: { config: { [`${P}:featureFlags`]: { "checkout-v2": true } } },
    expect: [/^Pulumi\.prod\.yaml: env-progression:featureFlags is .*; expected a YAML list of flags written name=on or name=off/],
  },
  {
    name: "the same flag twice",
    stack: "dev",
    opts: { config: { [`${P}:featureFlags`]: ["search-v2=on", "search-v2=off"] } },
    expect: [/^Pulumi\.dev\.yaml: env-progression:featureFlags names search-v2 twice; expected each flag once\.$/],
  },
  {
    name: "a lock timeout without a unit",
    stack: "prod",
    opts: { config: { [`${P}:lockTimeout`]: "5" } },
    expect: [/^Pulumi\.prod\.yaml: env-progression:lockTimeout is "5"; expected a PostgreSQL duration such as 5s or 500ms/],
  },
  {
    name: "a request above its limit",
    stack: "staging",
    opts: {
      config: { [`${P}:resources`]: { requests: { cpu: "2", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } } },
    },
    expect: [/^Pulumi\.staging\.yaml: env-progression:resources\.requests\.cpu is 2, above its limit 500m; expected a request at most the limit\.$/],
  },
  {
    name: "resources with a malformed memory and a stray key",
    stack: "dev",
    opts: {
      config: { [`${P}:resources`]: { requests: { cpu: "50m", memory: "lots" }, limits: { cpu: "1", memory: "1Gi" }, burst: {} } },
    },
    expect: [
      /^Pulumi\.dev\.yaml: env-progression:resources\.burst is not a known key; expected only requests and limits\.$/,
      /^Pulumi\.dev\.yaml: env-progression:resources\.requests\.memory is "lots"; expected a memory quantity such as 256Mi\.$/,
    ],
  },
  {
    name: "an ingress namespace that is not a namespace name",
    stack: "prod",
    opts: { config: { [`${P}:ingressNamespaces`]: ["Ingress NGINX"] } },
    expect: [/^Pulumi\.prod\.yaml: env-progression:ingressNamespaces\[0\] is "\\"Ingress NGINX\\""; expected namespace names such as ingress-nginx\.$/],
  },
  {
    name: "an egress CIDR that is not one",
    stack: "dev",
    opts: { config: { [`${P}:egressCidrs`]: ["0.0.0.0"] } },
    expect: [/^Pulumi\.dev\.yaml: env-progression:egressCidrs\[0\] is "\\"0\.0\.0\.0\\""; expected CIDR blocks such as 10\.0\.0\.0\/8\.$/],
  },
  {
    name: "an unknown appSource",
    stack: "dev",
    opts: { config: { [`${P}:appSource`]: "docker" } },
    expect: [/^Pulumi\.dev\.yaml: env-progression:appSource is "docker"; expected "reference" or "image"\.$/],
  },
  {
    name: "a smoke CA file that does not exist",
    stack: "staging",
    opts: { config: { [`${P}:smokeCaFile`]: "certs/missing-ca.pem" } },
    expect: [/^Pulumi\.staging\.yaml: env-progression:smokeCaFile names certs\/missing-ca\.pem, which cannot be read; expected a PEM certificate at \/.*certs\/missing-ca\.pem\.$/],
  },
  {
    name: "a smoke CA file that holds no certificate",
    stack: "staging",
    opts: { config: { [`${P}:smokeCaFile`]: "test/fixtures/not-a-certificate.pem" } },
    expect: [/^Pulumi\.staging\.yaml: env-progression:smokeCaFile names test\/fixtures\/not-a-certificate\.pem, which does not hold a PEM certificate\.$/],
  },
  {
    name: "a smoke deadline shorter than one request",
    stack: "prod",
    opts: { config: { [`${P}:smokeDeadlineSeconds`]: 5, [`${P}:smokeRequestTimeoutSeconds`]: 10 } },
    expect: [/^Pulumi\.prod\.yaml: env-progression:smokeDeadlineSeconds is 5, below smokeRequestTimeoutSeconds \(10\); expected a deadline at least as long as one request's timeout\.$/],
  },
  {
    name: "a parity exception without a reason or a real expiry",
    stack: "prod",
    opts: { config: { [`${P}:parityExceptions`]: [{ item: "flag:search-v2", expires: "2026-02-30" }] } },
    expect: [
      /^Pulumi\.prod\.yaml: env-progression:parityExceptions\[0\]\.reason is missing or too short; expected at least 10 characters/,
      /^Pulumi\.prod\.yaml: env-progression:parityExceptions\[0\]\.expires is not a real date; expected the last day it applies, YYYY-MM-DD\.$/,
    ],
  },
  {
    name: "a stack that is not an environment",
    stack: "dev",
    opts: {},
    expect: [/^Pulumi\.qa\.yaml: the stack is named "qa"; expected one of dev, staging, prod/],
  },
];

const secretCases: { name: string; stack: "dev" | "staging" | "prod"; opts: (canary: Record<string, string>) => EvaluateOptions; expect: RegExp }[] = [
  {
    name: "the database password missing",
    stack: "prod",
    opts: () => ({ secrets: {} }),
    expect: /^Pulumi\.prod\.yaml: env-progression:dbPassword is missing; it is the PostgreSQL password for this environment, set it with: pulumi config set --secret dbPassword <value> -s prod\.$/,
  },
  {
    name: "the database password in plaintext",
    stack: "staging",
    opts: (canary) => ({ secrets: {}, config: { [`${P}:dbPassword`]: canary[`${P}:dbPassword`] } }),
    expect: /^Pulumi\.staging\.yaml: env-progression:dbPassword is stored in plaintext; .* must be encrypted: rotate it, then set it with: pulumi config set --secret dbPassword <value> -s staging\.$/,
  },
  {
    name: "the smoke token in plaintext",
    stack: "dev",
    opts: (canary) => ({
      secrets: { [`${P}:dbPassword`]: canary[`${P}:dbPassword`] as string },
      config: { [`${P}:smokeToken`]: canary[`${P}:smokeToken`] },
    }),
    expect: /^Pulumi\.dev\.yaml: env-progression:smokeToken is stored in plaintext; .*pulumi config set --secret smokeToken <value> -s dev\.$/,
  },
];

async function expectRefused(stack: string, opts: EvaluateOptions, expect: RegExp[], runAs = stack) {
  const ev = await evaluateStack(stack, { ...opts, stackName: runAs });
  assert.ok(ev.error, "the program accepted the config");
  assert.ok(ev.error instanceof pulumi.RunError || ev.error.name === "RunError", `not a RunError: ${ev.error.stack}`);
  const [head, ...lines] = ev.error.message.split("\n").map((l) => l.trim());
  assert.match(head ?? "", /^The stack configuration has \d+ problem\(s\); nothing was changed:$/);
  assert.equal(lines.length, expect.length, `expected ${expect.length} problem line(s), got:\n${lines.join("\n")}`);
  expect.forEach((re, i) => assert.match(lines[i] ?? "", re));
  assert.deepEqual(ev.resources.map((r) => r.name), [], "resources were registered");
  return ev;
}

describe("bad config: one clear line each, nothing registered", () => {
  for (const c of corpus) {
    it(c.name, async () => {
      await expectRefused(c.stack, c.opts, c.expect, c.name.startsWith("a stack that is not") ? "qa" : c.stack);
    });
  }

  for (const c of secretCases) {
    it(`${c.name}, and the secret's value appears nowhere`, async () => {
      const canary = canarySecrets(c.stack);
      const ev = await expectRefused(c.stack, c.opts(canary), [c.expect]);
      for (const value of Object.values(canary)) {
        assert.ok(!ev.error?.message.includes(value), "a secret value leaked into the error");
      }
    });
  }

  it("reports every problem at once", async () => {
    await expectRefused(
      "prod",
      { secrets: {}, config: { [`${P}:replicas`]: "many", [`${P}:lockTimeout`]: "soon" } },
      [/replicas is "many"/, /lockTimeout is "soon"/, /dbPassword is missing/],
    );
  });
});
