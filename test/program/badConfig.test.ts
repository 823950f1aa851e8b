/**
 * The bad-config corpus: each case changes one thing in a real stack's config and runs the real
 * program under the SDK's engine. Each gets one clear line naming the file, the key, what it holds
 * and what is expected; the program throws a RunError (printed without a stack trace); and not a
 * single resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import fc from "fast-check";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadConfig } from "../../config";
import { parseConfig } from "../../model/config/parse";
import { shownValue } from "../../model/config/redact";
import { REPO_ROOT } from "../../model/paths";
import { readStackConfig } from "../../tools/stackConfig";
import { canarySecrets, evaluateStack, EvaluateOptions } from "../support/program";

interface Case {
  name: string;
  stack: "dev" | "staging" | "prod";
  opts: EvaluateOptions;
  /** Every line expected in the error, in order. */
  expect: RegExp[];
  /** Values that must appear nowhere in the error (besides the stack's canary secrets). */
  canaries?: string[];
}

const P = "env-progression";
const URL_WITH_CREDENTIALS = "https://deploy:CANARYpw@staging.example.com/?token=CANARYtok";

const corpus: Case[] = [
  {
    name: "a typo of a known key in prod",
    stack: "prod",
    opts: { config: { [`${P}:replica`]: 3 } },
    expect: [/^Pulumi\.prod\.yaml: env-progression:replica is not a key of this project; did you mean env-progression:replicas\?$/],
  },
  {
    name: "an unknown key with no near match",
    stack: "staging",
    opts: { config: { [`${P}:colour`]: "blue" } },
    expect: [/^Pulumi\.staging\.yaml: env-progression:colour is not a key of this project; expected one of .*replicas.*\.$/],
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
    expect: [/^Pulumi\.staging\.yaml: env-progression:featureFlags\[0\] is "checkout-v2"; expected flags written name=on or name=off/],
  },
  {
    name: "a feature flag that is not text",
    stack: "dev",
    opts: { config: { [`${P}:featureFlags`]: [5] } },
    expect: [/^Pulumi\.dev\.yaml: env-progression:featureFlags\[0\] is 5; expected flags written name=on or name=off/],
  },
  {
    name: "feature flags as a map instead of a list",
    stack: "prod",
    opts: { config: { [`${P}:featureFlags`]: { "checkout-v2": true } } },
    expect: [/^Pulumi\.prod\.yaml: env-progression:featureFlags is \{"checkout-v2":true\}; expected a YAML list of flags written name=on or name=off/],
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
    name: "resources that are not a map: one line, not a second one calling them missing",
    stack: "prod",
    opts: { config: { [`${P}:resources`]: "{requests" } },
    expect: [/^Pulumi\.prod\.yaml: env-progression:resources is "\{requests"; expected a YAML map of requests and limits\.$/],
  },
  {
    name: "a CPU that is not a quantity, written as a YAML number",
    stack: "staging",
    opts: {
      config: { [`${P}:resources`]: { requests: { cpu: -1, memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } } },
    },
    expect: [/^Pulumi\.staging\.yaml: env-progression:resources\.requests\.cpu is -1; expected a CPU quantity such as 250m or 1\.$/],
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
    expect: [/^Pulumi\.prod\.yaml: env-progression:ingressNamespaces\[0\] is "Ingress NGINX"; expected namespace names such as ingress-nginx\.$/],
  },
  {
    name: "an egress CIDR that is not one",
    stack: "dev",
    opts: { config: { [`${P}:egressCidrs`]: ["0.0.0.0"] } },
    expect: [/^Pulumi\.dev\.yaml: env-progression:egressCidrs\[0\] is "0\.0\.0\.0"; expected CIDR blocks such as 10\.0\.0\.0\/8\.$/],
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
    name: "a smoke base URL with user:password@ and a token in its query",
    stack: "staging",
    opts: { config: { [`${P}:smokeBaseUrl`]: URL_WITH_CREDENTIALS } },
    expect: [/^Pulumi\.staging\.yaml: env-progression:smokeBaseUrl has a user name or password in it \(user:password@\), which would be printed with the URL; expected an http\(s\) base URL such as https:\/\/staging\.example\.com, without them: put credentials in smokeToken, a secret \(pulumi config set --secret smokeToken <value> -s staging\)\.$/],
    canaries: ["CANARYpw", "CANARYtok", "deploy:"],
  },
  {
    // Accepted by the config check before, and refused only later by the SmokeRun provider.
    name: "a smoke base URL with user:password@ and no query",
    stack: "prod",
    opts: { config: { [`${P}:smokeBaseUrl`]: "https://deploy:CANARYpw@app.example.com" } },
    expect: [/^Pulumi\.prod\.yaml: env-progression:smokeBaseUrl has a user name or password in it \(user:password@\).*put credentials in smokeToken, a secret \(pulumi config set --secret smokeToken <value> -s prod\)\.$/],
    canaries: ["CANARYpw", "deploy:"],
  },
  {
    name: "a smoke base URL with a token in its query",
    stack: "staging",
    opts: { config: { [`${P}:smokeBaseUrl`]: "https://staging.example.com/health?token=CANARYtok#CANARYfrag" } },
    expect: [/^Pulumi\.staging\.yaml: env-progression:smokeBaseUrl is "https:\/\/staging\.example\.com\/health\?…"; expected an http\(s\) base URL such as https:\/\/staging\.example\.com, without a query string or fragment \(the checks' paths are appended to it; a token belongs in smokeToken, a secret\)\.$/],
    canaries: ["CANARYtok", "CANARYfrag"],
  },
  {
    name: "a host written with user:password@ and no scheme",
    stack: "prod",
    opts: { config: { [`${P}:host`]: "deploy:CANARYpw@app.example.com" } },
    expect: [/^Pulumi\.prod\.yaml: env-progression:host is "…@app\.example\.com"; expected a DNS host name such as staging\.example\.com\.$/],
    canaries: ["CANARYpw", "deploy:"],
  },
  {
    name: "a smoke CA file given as a URL with credentials (its path is repeated when unreadable)",
    stack: "staging",
    opts: { config: { [`${P}:smokeCaFile`]: "https://deploy:CANARYpw@certs.example.com/ca.pem" } },
    expect: [/^Pulumi\.staging\.yaml: env-progression:smokeCaFile is "https:\/\/…@certs\.example\.com\/ca\.pem"; expected a path to a PEM file in the repository such as certs\/ca\.pem\.$/],
    canaries: ["CANARYpw", "deploy:"],
  },
  {
    name: "the database password pasted into replicas",
    stack: "dev",
    opts: { config: { [`${P}:replicas`]: canarySecrets("dev")[`${P}:dbPassword`] } },
    expect: [/^Pulumi\.dev\.yaml: env-progression:replicas holds a value not shown here \(it contains a secret's value\); expected a whole number from 0 to 1000\.$/],
  },
  {
    name: "a key the program reads as plain text, set with --secret and wrong",
    stack: "staging",
    opts: { config: { [`${P}:host`]: "https://CANARYhost.example.com/" }, extraSecretKeys: [`${P}:host`] },
    expect: [/^Pulumi\.staging\.yaml: env-progression:host holds a value not shown here \(it is encrypted\); expected a DNS host name/],
    canaries: ["CANARYhost"],
  },
  {
    name: "a smoke trigger that assigns a token",
    stack: "prod",
    opts: { config: { [`${P}:smokeTrigger`]: "release 42\nAPI_TOKEN=CANARYtrigger" } },
    expect: [/^Pulumi\.prod\.yaml: env-progression:smokeTrigger holds a value not shown here \(it looks like it holds a credential\); expected any short text/],
    canaries: ["CANARYtrigger"],
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

/** The problem lines of a refusal: a RunError whose first line counts them, one line each. */
function problemLines(error: Error | undefined, expect: RegExp[], canaries: string[]): string[] {
  assert.ok(error, "the program accepted the config");
  assert.ok(error instanceof pulumi.RunError || error.name === "RunError", `not a RunError: ${error.stack}`);
  // A canary is checked before any assertion prints the message.
  for (const value of canaries) {
    assert.ok(!`${error.message}\n${error.stack ?? ""}`.includes(value), "a secret value leaked into the error");
  }
  const [head, ...lines] = error.message.split("\n").map((l) => l.trim());
  assert.match(head ?? "", /^The stack configuration has \d+ problem\(s\); nothing was changed:$/);
  assert.equal(lines.length, expect.length, `expected ${expect.length} problem line(s), got:\n${lines.join("\n")}`);
  expect.forEach((re, i) => assert.match(lines[i] ?? "", re));
  return lines;
}

async function expectRefused(
  stack: string,
  opts: EvaluateOptions,
  expect: RegExp[],
  runAs = stack,
  canaries: string[] = [],
) {
  const ev = await evaluateStack(stack, { ...opts, stackName: runAs });
  problemLines(ev.error, expect, [...Object.values(opts.secrets ?? canarySecrets(stack)), ...canaries]);
  assert.deepEqual(ev.resources.map((r) => r.name), [], "resources were registered");
  return ev;
}

/** A copy of the project's config files (and app/, which the program reads) to change. */
function projectCopy(edit: (projectYaml: string) => string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "env-progression-config-"));
  for (const f of ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"]) {
    fs.copyFileSync(path.join(REPO_ROOT, f), path.join(dir, f));
  }
  fs.cpSync(path.join(REPO_ROOT, "app"), path.join(dir, "app"), { recursive: true });
  const yaml = path.join(dir, "Pulumi.yaml");
  const before = fs.readFileSync(yaml, "utf8");
  const after = edit(before);
  assert.notEqual(after, before, "the edit changed nothing in Pulumi.yaml");
  fs.writeFileSync(yaml, after);
  return dir;
}

/**
 * Runs the program's loadConfig over `dir` as the CLI would for `stack`: Pulumi.yaml's defaults
 * under the stack file's values (tools/stackConfig), canary secrets encrypted, under the SDK's
 * mocks. Returns the error it throws and how many resources were registered.
 */
async function loadIn(dir: string, stack: string): Promise<{ error: Error | undefined; registered: number }> {
  let registered = 0;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered++;
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: () => ({}),
    },
    P,
    stack,
    false,
  );
  const secrets = canarySecrets(stack);
  pulumi.runtime.setAllConfig({ ...readStackConfig(dir, stack).values, ...secrets }, Object.keys(secrets));
  try {
    loadConfig(dir);
    return { error: undefined, registered };
  } catch (err) {
    return { error: err as Error, registered };
  }
}

describe("bad config: one clear line each, nothing registered", () => {
  for (const c of corpus) {
    it(c.name, async () => {
      const runAs = c.name.startsWith("a stack that is not") ? "qa" : c.stack;
      await expectRefused(c.stack, c.opts, c.expect, runAs, c.canaries);
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

  it("a bad default in Pulumi.yaml is blamed on Pulumi.yaml, in every stack's run", async () => {
    const dir = projectCopy((t) => t.replace(/(containerPort:\n(?:    .*\n)*?    default: )8080/, "$1abc"));
    try {
      for (const stack of ["dev", "staging", "prod"]) {
        const { error, registered } = await loadIn(dir, stack);
        problemLines(error, [/^Pulumi\.yaml: env-progression:containerPort is "abc"; expected a whole number from 1024 to 65535\.$/], Object.values(canarySecrets(stack)));
        assert.equal(registered, 0, "resources were registered");
        // verify reads the config with tools/stackConfig, whose sources say the same.
        const cfg = readStackConfig(dir, stack);
        const parsed = parseConfig({
          stack,
          values: { ...cfg.values, ...canarySecrets(stack) },
          secretKeys: new Set(Object.keys(canarySecrets(stack))),
          sources: cfg.sources,
        });
        assert.deepEqual(parsed.ok ? [] : parsed.errors, [
          'Pulumi.yaml: env-progression:containerPort is "abc"; expected a whole number from 1024 to 65535.',
        ]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a stack file's value over a good default in Pulumi.yaml is blamed on the stack file", async () => {
    const dir = projectCopy((t) => t.replace("default: 8080", "default: 8081"));
    try {
      fs.appendFileSync(path.join(dir, "Pulumi.prod.yaml"), `  ${P}:containerPort: "80"\n`);
      const { error } = await loadIn(dir, "prod");
      problemLines(error, [/^Pulumi\.prod\.yaml: env-progression:containerPort is "80"; expected a whole number from 1024 to 65535\.$/], []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a file that a default of Pulumi.yaml points at is blamed on Pulumi.yaml", async () => {
    const dir = projectCopy((t) => t.replace("default: 8080", "default: 8081"));
    try {
      fs.rmSync(path.join(dir, "app", "server.js"));
      const { error, registered } = await loadIn(dir, "staging");
      problemLines(error, [/^Pulumi\.yaml: env-progression:appSource "reference" names app\/server\.js, which cannot be read; expected the reference app's code \(or set appSource: image\) at \/.*app\/server\.js\.$/], []);
      assert.equal(registered, 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("never shows a URL's user info, query or fragment, whatever they hold", () => {
    // Anything but @ (which ends user info) in a password, including / ? # ' " and spaces.
    const secretText = (prefix: string) =>
      fc.stringMatching(/^[^@\0\r\n]{0,30}$/).map((s) => `${prefix}${s}`);
    fc.assert(
      fc.property(secretText("CANARYpw"), secretText("CANARYtok"), fc.constantFrom("", "/", "/app"), (pw, tok, p) => {
        const value = `https://deploy:${pw}@staging.example.com${p}?token=${tok}#${tok}`;
        const shown = shownValue(value);
        assert.ok(!shown.includes(pw) && !shown.includes(tok), shown);
        const parsed = parseConfig({
          stack: "staging",
          values: { [`${P}:smokeBaseUrl`]: value, [`${P}:host`]: value },
          secretKeys: new Set(),
        });
        const text = parsed.ok ? "" : parsed.errors.join("\n");
        assert.ok(!text.includes(pw) && !text.includes(tok), text);
        assert.match(text, /smokeBaseUrl has a user name or password in it/);
      }),
    );
  });

  it("reports every problem at once", async () => {
    await expectRefused(
      "prod",
      { secrets: {}, config: { [`${P}:replicas`]: "many", [`${P}:lockTimeout`]: "soon" } },
      [/replicas is "many"/, /lockTimeout is "soon"/, /dbPassword is missing/],
    );
  });
});
