/**
 * model/secrets/ on its own: what a sensitive name is, where plaintext secrets hide, and the
 * fingerprints that compare secret values across environments without writing them down.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CANDIDATE_MIN,
  hasCredentialUrl,
  isSensitiveName,
  secretCandidates,
  sensitiveAssignments,
} from "../../model/secrets/sensitive";
import {
  fingerprint,
  FingerprintMatcher,
  fingerprintSecrets,
  newFingerprintParams,
  parseSecretFingerprints,
  stableFingerprintParams,
} from "../../model/secrets/fingerprints";
import { plainTextSites, plaintextSecretReasons } from "../../model/secrets/sites";
import { secretReferencesOf } from "../../model/secrets/references";
import { secretValuesOf } from "../../model/secrets/values";
import { fixFor, plainTextFix } from "../../policies/disallow-lower-environment-secrets";
import { POLICY } from "../../model/policyNames";
import { canarySecrets } from "../../tools/evaluate";
import { realRun } from "./support";

const FAST = { ...newFingerprintParams(Buffer.alloc(16, 1)), N: 1024 };

describe("model/secrets", () => {
  it("recognises sensitive names, in every casing, and leaves ordinary ones alone", () => {
    for (const n of [
      "PASSWORD",
      "PGPASSWORD",
      "db_password",
      "dbPassword",
      "API_TOKEN",
      "apiKey",
      "STRIPE_KEY",
      "client-secret",
      "AWS_SECRET_ACCESS_KEY",
      "credentials",
      "PASSPHRASE",
      "PWD",
      "private_key",
    ]) {
      assert.ok(isSensitiveName(n), n);
    }
    for (const n of [
      "PORT",
      "LOCK_TIMEOUT",
      "FLAGS_FILE",
      "MONKEY",
      "DB_HOST",
      "flags.json",
      "RELEASE_COMMIT",
      "keyboard",
      "PGPASS_FILE_PATH",
    ]) {
      assert.ok(!isSensitiveName(n), n);
    }
  });

  it("finds literal assignments to sensitive names in config, command lines and code, not references", () => {
    assert.deepEqual(sensitiveAssignments("STRIPE_KEY=sk_live_1\nLOG=info\n", "config"), [
      "STRIPE_KEY",
    ]);
    assert.deepEqual(sensitiveAssignments("password: hunter2\nuser: app\n", "config"), [
      "password",
    ]);
    assert.deepEqual(sensitiveAssignments('{"apiKey": "abc", "name": "x"}', "config"), ["apiKey"]);
    assert.deepEqual(sensitiveAssignments("psql --password=abc -h db", "command"), ["password"]);
    assert.deepEqual(sensitiveAssignments("run --token abc123", "command"), ["token"]);
    assert.deepEqual(sensitiveAssignments("PGPASSWORD=abc psql", "command"), ["PGPASSWORD"]);
    assert.deepEqual(sensitiveAssignments('const password = "hunter2";', "code"), ["password"]);
    // references, not values
    assert.deepEqual(
      sensitiveAssignments("password: process.env.PGPASSWORD,\ntoken: config.token", "code"),
      [],
    );
    assert.deepEqual(sensitiveAssignments("PASSWORD=$DB_PASSWORD\nTOKEN=${TOKEN}\n", "config"), []);
    assert.deepEqual(sensitiveAssignments("const token = getToken(req)", "code"), []);
    assert.deepEqual(sensitiveAssignments("-c lock_timeout=5s -U app", "command"), []);
  });

  it("finds URLs that carry a password", () => {
    assert.ok(hasCredentialUrl("postgres://app:s3cret@db:5432/app"));
    assert.ok(!hasCredentialUrl("postgres://app@db:5432/app"));
    assert.ok(!hasCredentialUrl("https://user:${PASSWORD}@host"));
    assert.ok(!hasCredentialUrl("https://example.com/a:b@c"));
  });

  it("lists the plain places of a workload: env values, commands, annotations, ConfigMap data, never Secret data", async () => {
    const run = await realRun("prod");
    const dep = run.resources.find((r) => r.name === "prod-app-deployment");
    const sites = plainTextSites(dep as never);
    assert.ok(sites.some((s) => s.where === "env DB_HOST of container app"));
    assert.ok(sites.some((s) => s.where === "command and args of container app"));
    assert.ok(sites.some((s) => s.where === "annotation env-progression/release-commit"));
    assert.ok(
      sites.some(
        (s) => s.where === "annotation env-progression/release-commit of the pod template",
      ),
    );
    const secret = run.resources.find((r) => r.name === "prod-db-credentials");
    assert.deepEqual(
      plainTextSites(secret as never).filter((s) => s.kind !== "annotation"),
      [],
    );
    // no site of the real stack looks like a plaintext secret
    for (const r of run.resources)
      for (const s of plainTextSites(r))
        assert.deepEqual(plaintextSecretReasons(s), [], `${r.name}: ${s.where}`);
  });

  it("reads Secret values from stringData and base64 data, and references from every place a pod names a Secret", () => {
    const secret = {
      type: "kubernetes:core/v1:Secret",
      name: "s",
      props: { stringData: { a: "x" }, data: { b: Buffer.from("y").toString("base64") } },
    };
    assert.deepEqual(secretValuesOf(secret), [
      { where: "stringData.a", key: "a", value: "x" },
      { where: "data.b", key: "b", value: "y" },
    ]);
    const refs = secretReferencesOf(
      {
        containers: [
          {
            name: "c",
            env: [{ name: "E", valueFrom: { secretKeyRef: { name: "s1", key: "k" } } }],
            envFrom: [{ secretRef: { name: "s2" } }],
          },
        ],
        initContainers: [
          {
            name: "i",
            env: [{ name: "F", valueFrom: { secretKeyRef: { name: "s3", key: "k" } } }],
          },
        ],
        volumes: [
          { name: "v", secret: { secretName: "s4" } },
          { name: "p", projected: { sources: [{ secret: { name: "s5" } }] } },
        ],
        imagePullSecrets: [{ name: "s6" }],
      },
      ["spec"],
    );
    assert.deepEqual(
      refs.map((r) => r.secret),
      ["s1", "s2", "s3", "s4", "s5", "s6"],
    );
  });

  it("candidates: the whole value, tokens of short texts, sensitive assignments of long ones, never shorter than the minimum", () => {
    assert.deepEqual(secretCandidates("short"), []);
    assert.ok(
      secretCandidates("postgres://app:longpassword@db/app", "command").includes("longpassword"),
    );
    const long = `${"x".repeat(5000)}\nAPI_TOKEN=abcdefgh1234\n`;
    assert.deepEqual(secretCandidates(long, "config"), ["abcdefgh1234"]);
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (t) =>
        secretCandidates(t).every((c) => c.length >= CANDIDATE_MIN && c.length <= 256),
      ),
    );
  });

  it("fingerprints are keyed by the salt, never contain the value, and match only the same value", async () => {
    const a = fingerprint("hunter2-hunter2", FAST);
    assert.equal(a, fingerprint("hunter2-hunter2", FAST));
    assert.notEqual(
      a,
      fingerprint("hunter2-hunter2", { ...FAST, salt: Buffer.alloc(16, 2).toString("base64") }),
    );
    const set = fingerprintSecrets(
      [{ source: "config dbPassword", value: "hunter2-hunter2" }],
      FAST,
    );
    assert.ok(!JSON.stringify(set).includes("hunter2"));
    const m = new FingerprintMatcher(set);
    // fingerprintSecrets (the program, scryptSync) and the matcher (the pack, scrypt) agree.
    assert.deepEqual(await m.sourcesOf("hunter2-hunter2"), ["config dbPassword"]);
    assert.deepEqual(await m.sourcesOf("hunter2-hunter3"), []);
    // Side by side, as the policy asks: each answer is its own value's, and a repeat is cached.
    const many = ["hunter2-hunter3", "hunter2-hunter2", "hunter2-hunter4", "hunter2-hunter2"];
    assert.deepEqual(await Promise.all(many.map((v) => m.sourcesOf(v))), [
      [],
      ["config dbPassword"],
      [],
      ["config dbPassword"],
    ]);
  });

  it("a stable salt is one per seed (a namespace uid), 16 bytes, and refuses a short seed", () => {
    const uid = "6f1c2a4e-0b7d-4c1e-9a53-2f8e7d6c5b4a";
    const a = stableFingerprintParams(uid);
    assert.deepEqual(stableFingerprintParams(uid), a);
    assert.notEqual(stableFingerprintParams(uid.replace("6f", "7f")).salt, a.salt);
    assert.equal(Buffer.from(a.salt, "base64").length, 16);
    assert.deepEqual({ ...a, salt: "" }, { ...newFingerprintParams(), salt: "" });
    assert.throws(() => stableFingerprintParams("short"), /at least 16 characters/);
  });

  it("the program's baseline carries no secret, not even a prefix of one", async () => {
    const run = await realRun("staging");
    // Only the program's own output is the program's baseline: the one verify computes when the
    // output is missing is this repository's recomputation, and would pass for any program.
    assert.equal(
      run.baselineSource,
      "stack output",
      "the program does not export parityBaseline; export it from index.ts",
    );
    const text = JSON.stringify(run.baseline);
    for (const v of Object.values(canarySecrets("staging"))) {
      assert.ok(!text.includes(v));
      assert.ok(!text.includes(v.slice(0, 8)));
      assert.ok(!text.includes(Buffer.from(v).toString("base64").slice(0, 12)));
    }
    // Salted from the namespace's uid (components/environment.ts), not a fixed or missing salt.
    const ns = run.resources.find((r) => r.type === "kubernetes:core/v1:Namespace");
    const uid = (ns?.props.metadata as { uid?: unknown } | undefined)?.uid;
    assert.ok(typeof uid === "string", "the stack registers no Namespace with a uid");
    assert.deepEqual(run.baseline.secrets?.params, stableFingerprintParams(uid));
    assert.deepEqual(
      run.baseline.secrets?.values.map((v) => v.source),
      ["config dbPassword", "config smokeToken"],
    );
    // by default a fresh random salt for each baseline: no precomputed table fits two of them
    assert.notEqual(newFingerprintParams().salt, newFingerprintParams().salt);
  });

  it("refuses fingerprint parameters that would make the pack slow or weak, field by field", () => {
    const errors = parseSecretFingerprints(
      {
        params: { algorithm: "md5", salt: "c2FsdA==", N: 3, r: 100, p: 0, length: 4 },
        values: [{ source: 1 }],
      },
      "baseline.secrets",
    ).errors;
    assert.deepEqual(errors, [
      'baseline.secrets.params.algorithm is not "scrypt"',
      "baseline.secrets.params.salt is not base64 of at least 16 bytes",
      "baseline.secrets.params.N is not a power of two from 2^10 to 2^20",
      "baseline.secrets.params.r is not a whole number from 1 to 32",
      "baseline.secrets.params.p is not a whole number from 1 to 16",
      "baseline.secrets.params.length is not a whole number from 16 to 64",
      "baseline.secrets.values[0] is not {source, fingerprint (base64)}",
    ]);
    assert.deepEqual(parseSecretFingerprints(fingerprintSecrets([], FAST), "x").errors, []);
  });
});

describe(`${POLICY.disallowLowerEnvironmentSecrets}: the fix names the config key`, () => {
  it("names each key the baseline names, once, and <key> only for a source that is no config key", () => {
    const set = (k: string) => `pulumi config set --secret ${k} <new value> -s prod`;
    const rotate = "rotate the lower environment's value if it was ever shown";
    assert.equal(
      fixFor("prod", [{ env: "dev", source: "config smokeToken" }]),
      `generate a new value for prod and set it with ${set("smokeToken")}; ${rotate}`,
    );
    assert.equal(
      fixFor("prod", [
        { env: "dev", source: "config dbPassword" },
        { env: "staging", source: "config dbPassword" },
        { env: "staging", source: "config smokeToken" },
      ]),
      `generate a new value for prod and set it with ${set("dbPassword")} and ${set("smokeToken")}; ${rotate}`,
    );
    // A source name that is not "config <key>" (another baseline's wording) is never copied into a command.
    assert.equal(
      fixFor("prod", [{ env: "dev", source: "config db password; rm -rf /" }]),
      `generate a new value for prod and set it with ${set("<key>")}; ${rotate}`,
    );
  });

  it("for plain text: take it out, a Secret with this stack's own value, rotate each lower value where it lives", () => {
    assert.equal(
      plainTextFix("prod", "env DB_URL of container app", [
        { env: "dev", source: "config dbPassword" },
        { env: "staging", source: "config dbPassword" },
      ]),
      "take it out of env DB_URL of container app; a secret that prod needs reaches it through a Secret of this stack, " +
        "with a value of its own (pulumi config set --secret dbPassword <new value> -s prod); and rotate the lower value, " +
        "which is exposed now (pulumi config set --secret dbPassword <new value> -s dev and " +
        "pulumi config set --secret dbPassword <new value> -s staging)",
    );
  });
});
