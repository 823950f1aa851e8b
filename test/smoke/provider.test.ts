/**
 * The dynamic provider the program registers, driven as the engine drives it: the `__provider`
 * text captured under the SDK's mocks, loaded with require-from-string and `.handler()` as the
 * dynamic-provider host does, then create/diff/update against real servers on loopback.
 */
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { readSmokeFailure } from "../../model/smoke";
import {
  CANARY,
  capturedProvider,
  capturingOutput,
  certificates,
  contractApp,
  elapsedSince,
  freePort,
  Json,
  LoadedProvider,
  loadProvider,
  providerInputs,
  sendJson,
  startServer,
  startSilentServer,
  TestServer,
  TOKEN_HEADER,
} from "./support";
import { REPO_ROOT as ROOT } from "../../model/paths";

/** Generous: the bound is the provider's deadline, not the speed of this machine. */
const MARGIN_MS = 1500;

interface Outcome {
  value?: { id: string; outs: Json };
  error?: Error;
  elapsedMs: number;
}

let provider: LoadedProvider;
const servers: TestServer[] = [];

async function serve(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}

/** create() with the canary header, asserting that the canary shows up nowhere. */
async function create(inputs: Json): Promise<Outcome> {
  const start = process.hrtime.bigint();
  const { value, error, output } = await capturingOutput(() => provider.create(inputs));
  const elapsedMs = elapsedSince(start);
  assert.ok(!output.includes(CANARY), "the secret header value was printed");
  if (value !== undefined)
    assert.ok(!JSON.stringify(value).includes(CANARY), "the secret header value is in the outputs");
  if (error !== undefined) {
    assert.ok(!String(error.message).includes(CANARY), "the secret header value is in the error");
    assert.ok(
      !String(error.stack).includes(CANARY),
      "the secret header value is in the error's stack",
    );
  }
  return {
    ...(value === undefined ? {} : { value }),
    ...(error === undefined ? {} : { error }),
    elapsedMs,
  };
}

function failed(o: Outcome): string {
  assert.ok(
    o.error instanceof Error,
    `expected create to fail, it returned ${JSON.stringify(o.value?.outs)}`,
  );
  return o.error.message;
}

function passed(o: Outcome): Json {
  assert.equal(o.error, undefined, o.error?.message);
  assert.ok(o.value !== undefined);
  return o.value.outs;
}

describe("smoke provider (serialized, loaded as the dynamic-provider host loads it)", () => {
  before(async () => {
    provider = loadProvider((await capturedProvider()).text);
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  describe("the serialized text", () => {
    it("holds the check library by value: no require of a project file, no path of this checkout", async () => {
      const { text } = await capturedProvider();
      assert.doesNotMatch(
        text,
        /require\(["']\.{1,2}\//,
        "a relative require would resolve against the host's cwd",
      );
      assert.ok(
        !text.includes(ROOT),
        "an absolute path of this checkout would not exist elsewhere",
      );
      assert.match(text, /require\("undici"\)/, "undici is loaded inside the methods");
      assert.ok(!text.includes(CANARY), "a secret was captured into the provider");
    });

    it("runs from another directory, with only the packages installed there", async function () {
      this.timeout(30_000);
      const { text } = await capturedProvider();
      const server = await serve(contractApp());
      const dir = mkdtempSync(path.join(tmpdir(), "smoke-host-"));
      try {
        symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
        writeFileSync(path.join(dir, "provider.txt"), text);
        writeFileSync(
          path.join(dir, "host.js"),
          `const text = require("fs").readFileSync("provider.txt", "utf8");
const p = require("require-from-string")(text).handler();
p.create(JSON.parse(process.argv[2])).then(
  (r) => { console.log(JSON.stringify(r.outs.results)); },
  (e) => { console.error(e.message); process.exitCode = 1; });`,
        );
        const inputs = await providerInputs(server.url);
        // Asynchronously: the server answering it lives in this process.
        const run = await new Promise<{ status: number; stdout: string; stderr: string }>(
          (resolve) => {
            execFile(
              process.execPath,
              ["host.js", JSON.stringify(inputs)],
              { cwd: dir, timeout: 20_000 },
              (err, stdout, stderr) =>
                resolve({ status: err === null ? 0 : Number(err.code ?? 1), stdout, stderr }),
            );
          },
        );
        assert.equal(run.status, 0, run.stderr);
        const results = JSON.parse(run.stdout) as { name: string; ok: boolean }[];
        assert.deepEqual(
          results.map((r) => [r.name, r.ok]),
          [
            ["health", true],
            ["version", true],
            ["database", true],
            ["critical-action", true],
          ],
        );
        assert.ok(!run.stdout.includes(CANARY) && !run.stderr.includes(CANARY));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("create", () => {
    it("passes against a healthy target: outputs the version and each check, and no secret", async () => {
      const server = await serve(contractApp());
      const outs = passed(await create(await providerInputs(server.url)));
      assert.equal(outs.verifiedVersion, "1.4.0");
      assert.deepEqual(
        outs.results.map((r: Json) => [r.name, r.ok, r.status]),
        [
          ["health", true, 200],
          ["version", true, 200],
          ["database", true, 200],
          ["critical-action", true, 200],
        ],
      );
      for (const r of outs.results) assert.ok(Number.isFinite(r.latencyMs) && r.latencyMs >= 0);
      // The header did travel: to the target's own origin.
      assert.equal(server.hits.length, 4);
      for (const hit of server.hits) assert.equal(hit.headers[TOKEN_HEADER.toLowerCase()], CANARY);
      assert.deepEqual(Object.keys(outs).sort(), [
        "baseUrl",
        "expectVersion",
        "headersFingerprint",
        "headersSalt",
        "results",
        "settingsFingerprint",
        "verifiedAt",
        "verifiedVersion",
      ]);
    });

    it("fails, within its deadline, against a target that accepts and never answers", async () => {
      const silent = await startSilentServer();
      servers.push(silent);
      const o = await create(await providerInputs(silent.url, { deadlineMs: 1500 }));
      const message = failed(o);
      assert.ok(o.elapsedMs < 1500 + MARGIN_MS, `took ${o.elapsedMs} ms`);
      assert.match(message, /no response headers within 0\.4 s \(UND_ERR_HEADERS_TIMEOUT\)/);
      assert.match(message, /still failing at the deadline \(1\.5 s\)/);
      assert.match(message, new RegExp(`GET ${silent.url}/healthz`));
      assert.ok(silent.connections() >= 2, "the timeout was retried");
    });

    // undici times headers on a coarse clock (about 1 s), so "slow" here is well past 1 s.
    it("fails on headers slower than the request timeout, and passes once they come in time", async () => {
      const slow = await serve((req, res) => {
        setTimeout(() => contractApp()(req, res, 0), 3000).unref();
      });
      const o = await create(await providerInputs(slow.url, { deadlineMs: 2000 }));
      assert.match(failed(o), /no response headers within 0\.4 s \(UND_ERR_HEADERS_TIMEOUT\)/);
      assert.ok(o.elapsedMs < 2000 + MARGIN_MS);

      const firstSlow = await serve((req, res, hit) => {
        setTimeout(() => contractApp()(req, res, hit), hit <= 2 ? 3000 : 0).unref();
      });
      passed(await create(await providerInputs(firstSlow.url, { deadlineMs: 6000 })));
      assert.ok(firstSlow.hits.length > 4, "the slow requests were retried");
    });

    it("retries 503 until it turns 200", async () => {
      const app = contractApp();
      const server = await serve((req, res, hit) => {
        if (hit <= 3) return sendJson(res, 503, { error: "no endpoints yet" });
        return app(req, res, hit);
      });
      const outs = passed(await create(await providerInputs(server.url)));
      assert.equal(outs.results.length, 4);
      assert.ok(server.hits.length >= 7);
    });

    it("retries a refused connection until the target is up", async () => {
      const port = await freePort();
      const later = new Promise<TestServer>((resolve) => {
        setTimeout(() => void startServer(contractApp(), undefined, port).then(resolve), 400);
      });
      const o = await create(
        await providerInputs(`http://127.0.0.1:${port}`, { deadlineMs: 4000 }),
      );
      servers.push(await later);
      passed(o);
    });

    it("retries an older version still answering, and fails when it stays", async () => {
      const rolling = await serve(
        contractApp((hit) => ({ version: hit <= 3 ? "1.3.9" : "1.4.0" })),
      );
      assert.equal(
        passed(await create(await providerInputs(rolling.url))).verifiedVersion,
        "1.4.0",
      );

      const old = await serve(contractApp({ version: "1.3.9" }));
      const o = await create(await providerInputs(old.url, { deadlineMs: 1500 }));
      const message = failed(o);
      assert.ok(o.elapsedMs < 1500 + MARGIN_MS);
      assert.match(message, /✗ version: GET http:\/\/127\.0\.0\.1:\d+\/api\/version/);
      assert.match(message, /got: +200 with \.version = "1\.3\.9"/);
      assert.match(message, /expected: 2xx with JSON \.version == "1\.4\.0"/);
      assert.ok(
        old.hits.filter((h) => h.path === "/api/version").length >= 3,
        "the old version was retried",
      );
    });

    it("fails at once on connected: false, success: false, and a missing version", async () => {
      for (const [state, check, text] of [
        [{ connected: false }, "database", /\.connected = false.*connection refused/],
        [{ success: false }, "critical-action", /\.success = false/],
        [{ version: null }, "version", /without \.version/],
      ] as const) {
        const server = await serve(contractApp(state));
        const o = await create(await providerInputs(server.url, { deadlineMs: 5000 }));
        const message = failed(o);
        assert.ok(
          o.elapsedMs < 2500,
          `${check}: a definite failure is not retried (took ${o.elapsedMs} ms)`,
        );
        assert.match(message, new RegExp(`✗ ${check}: `));
        assert.match(message, text);
        assert.match(message, /1 of 4 checks failed/);
        // The line promote reads back (model/smoke.ts), from the serialized provider's own error.
        assert.deepEqual(readSmokeFailure(message), {
          baseUrl: server.url,
          failed: [check],
          total: 4,
        });
      }
    });

    it("fails at once on a body that is not JSON, even one that echoes the secret header", async () => {
      const server = await serve((req, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end(`<html>hello ${String(req.headers[TOKEN_HEADER.toLowerCase()])}</html>`);
      });
      const o = await create(await providerInputs(server.url, { deadlineMs: 5000 }));
      const message = failed(o);
      assert.ok(o.elapsedMs < 2500);
      assert.match(message, /not JSON \(text\/html\): <html>hello \[redacted\]<\/html>/);
    });

    it("fails at once on a body over 1 MiB, without reading it all", async () => {
      const server = await serve((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = (): void => {
          while (sent < 64 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          res.end();
        };
        res.on("close", () => (sent = Infinity));
        pump();
      });
      const o = await create(await providerInputs(server.url, { deadlineMs: 5000 }));
      assert.match(failed(o), /larger than the limit \(UND_ERR_RES_EXCEEDED_MAX_SIZE\)/);
      assert.ok(o.elapsedMs < 2500);
    });

    it("does not follow a redirect to another origin: the header never reaches it", async () => {
      const other = await serve(contractApp());
      const server = await serve((req, res) => {
        res.writeHead(302, { location: `${other.url}${req.url ?? "/"}` });
        res.end();
      });
      const o = await create(await providerInputs(server.url, { deadlineMs: 5000 }));
      const message = failed(o);
      assert.match(
        message,
        new RegExp(`redirect 302 to another origin \\(${other.url.replace(/\./g, "\\.")}`),
      );
      assert.equal(other.hits.length, 0, "the other origin was contacted");
    });

    it("follows a redirect within the same origin", async () => {
      const app = contractApp();
      const server = await serve((req, res, hit) => {
        if (req.url === "/healthz") {
          res.writeHead(307, { location: "/healthz/" });
          return void res.end();
        }
        if (req.url === "/healthz/") req.url = "/healthz";
        return app(req, res, hit);
      });
      const outs = passed(await create(await providerInputs(server.url)));
      assert.equal(outs.results[0].status, 200);
      assert.equal(
        server.hits.find((h) => h.path === "/healthz/")?.headers[TOKEN_HEADER.toLowerCase()],
        CANARY,
      );
    });

    it("verifies TLS: passes with the CA given, fails at once without it", async () => {
      const { caPem, key, cert } = certificates();
      const server = await serve(contractApp(), { key, cert });
      passed(await create(await providerInputs(server.url, { caPem })));

      const o = await create(await providerInputs(server.url, { deadlineMs: 5000 }));
      const message = failed(o);
      assert.ok(o.elapsedMs < 2500, "an untrusted certificate is not retried");
      assert.match(message, /TLS certificate not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
    });

    it("trusts a self-signed certificate only when it is given as the CA", async () => {
      const { selfSigned } = certificates();
      const server = await serve(contractApp(), selfSigned);
      assert.match(
        failed(await create(await providerInputs(server.url, { deadlineMs: 5000 }))),
        /DEPTH_ZERO_SELF_SIGNED_CERT/,
      );
      passed(await create(await providerInputs(server.url, { caPem: selfSigned.cert })));
    });
  });

  describe("diff (runs nothing: the engine calls it during preview too)", () => {
    let olds: Json;
    let news: Json;
    let server: TestServer;

    beforeEach(async () => {
      server = await serve(contractApp());
      news = await providerInputs(server.url);
      olds = (await provider.create(news)).outs;
      server.hits.length = 0;
    });

    afterEach(() => {
      assert.equal(server.hits.length, 0, "diff made a request");
    });

    it("reports no change for the same inputs", async () => {
      assert.equal((await provider.diff("id", olds, news)).changes, false);
    });

    const changes: [string, (n: Json) => void][] = [
      ["the release", (n) => (n.expectVersion = "1.5.0")],
      ["the trigger", (n) => (n.trigger = "again")],
      // Regression (found by the real engine): a new image of the same version went unchecked.
      ["the rollout (a new pod template, the same version)", (n) => (n.rollout = "template-2")],
      ["the base URL", (n) => (n.baseUrl = "http://127.0.0.1:1")],
      ["a secret header's value", (n) => (n.headers = { [TOKEN_HEADER]: `${CANARY}-rotated` })],
      ["the headers sent", (n) => (n.headers = { ...n.headers, "X-Other": "1" })],
      ["the checks", (n) => (n.checks = n.checks.slice(0, 3))],
      [
        "a check's expectation",
        (n) =>
          (n.checks = n.checks.map((c: Json) => ({
            ...c,
            equals: c.equals === true ? false : c.equals,
          }))),
      ],
      ["the request timeout", (n) => (n.requestTimeoutMs = 500)],
      ["the deadline", (n) => (n.deadlineMs = 3000)],
      ["the CA bundle", (n) => (n.caPem = certificates().caPem)],
    ];
    for (const [what, change] of changes) {
      it(`re-runs on a change of ${what}`, async () => {
        const changed = structuredClone(news);
        change(changed);
        assert.equal((await provider.diff("id", olds, changed)).changes, true);
      });
    }

    it("re-runs when an input is not known yet (preview)", async () => {
      const unknown = unknownValue;
      assert.equal((await provider.diff("id", olds, { ...news, baseUrl: unknown })).changes, true);
      assert.equal(
        (await provider.diff("id", olds, { ...news, headers: { [TOKEN_HEADER]: unknown } }))
          .changes,
        true,
      );
    });

    it("keeps the secret out of the state: a salted HMAC that differs per run", async () => {
      assert.ok(!JSON.stringify(olds).includes(CANARY));
      const again = (await provider.create(news)).outs;
      assert.notEqual(again.headersFingerprint, olds.headersFingerprint);
      assert.equal((await provider.diff("id", again, news)).changes, false);
      server.hits.length = 0;
    });
  });

  describe("update", () => {
    it("runs the checks again and returns fresh results", async () => {
      const server = await serve(contractApp({ version: "1.5.0" }));
      const olds = (
        await provider.create(await providerInputs(server.url, { expectVersion: "1.5.0" }))
      ).outs;
      const news = await providerInputs(server.url, { expectVersion: "1.5.0", trigger: "rerun" });
      const { outs } = await provider.update("id", olds, news);
      assert.equal(server.hits.length, 8);
      assert.equal(outs.trigger, "rerun");
      assert.equal((await provider.diff("id", outs, news)).changes, false);
    });

    it("fails the update when the new release is not the one answering", async () => {
      const server = await serve(contractApp());
      const olds = (await provider.create(await providerInputs(server.url))).outs;
      const news = await providerInputs(server.url, { expectVersion: "2.0.0", deadlineMs: 1000 });
      await assert.rejects(provider.update("id", olds, news), (err: Error) => {
        assert.match(err.message, /expected: 2xx with JSON \.version == "2\.0\.0"/);
        assert.ok(!err.message.includes(CANARY));
        return true;
      });
    });
  });

  describe("check", () => {
    it("names the field at fault, never a header's value", async () => {
      const base = await providerInputs("http://127.0.0.1:1");
      const cases: [Json, string, RegExp][] = [
        [{ baseUrl: "ftp://example.com" }, "baseUrl", /http:\/\/ or https:\/\//],
        [
          { baseUrl: `https://user:${CANARY}@example.com` },
          "baseUrl",
          /must not carry credentials/,
        ],
        [{ headers: { Host: CANARY } }, "headers", /Host is managed by the client/],
        [
          { headers: { "X-Token": `${CANARY}\r\nX-Injected: 1` } },
          "headers",
          /must not contain control characters/,
        ],
        [{ checks: [] }, "checks", /non-empty list/],
        [{ deadlineMs: 0 }, "deadlineMs", /positive/],
      ];
      for (const [override, property, reason] of cases) {
        const { failures } = await provider.check({}, { ...base, ...override });
        const f = failures?.find((x) => x.property === property);
        assert.ok(f !== undefined, `no failure on ${property}: ${JSON.stringify(failures)}`);
        assert.match(f.reason, reason);
        assert.ok(!JSON.stringify(failures).includes(CANARY));
      }
      assert.deepEqual((await provider.check({}, base)).failures, []);
    });

    it("lets unknown values through (preview)", async () => {
      const base = await providerInputs("http://127.0.0.1:1");
      const { failures } = await provider.check({}, { ...base, baseUrl: unknownValue });
      assert.deepEqual(failures, []);
    });
  });
});
