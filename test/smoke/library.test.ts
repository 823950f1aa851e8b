/**
 * The check library's pure parts, without servers or mocks: the retry schedule, the failure
 * table, validation, redaction, fingerprints.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import { CONTRACT_CHECKS, describeExpectation, repeatChecks } from "../../smoke/contract";
import { classifyError, classifyStatus, TRANSIENT_ERROR_CODES } from "../../smoke/failures";
import { headersFingerprint, settingsFingerprint, stableJson } from "../../smoke/fingerprint";
import { checksProblems, DEFAULTS, parseHeaderLine, planProblems } from "../../smoke/plan";
import type { SmokePlan } from "../../smoke/plan";
import { REDACTED, redact, snippet } from "../../smoke/report";
import { DEFAULT_BACKOFF, nextDelay } from "../../smoke/retry";

const plan = (over: Partial<SmokePlan> = {}): SmokePlan => ({
  baseUrl: "https://staging.example.com",
  checks: CONTRACT_CHECKS.map((c) => ({ ...c })),
  headers: {},
  requestTimeoutMs: DEFAULTS.requestTimeoutMs,
  deadlineMs: DEFAULTS.deadlineMs,
  maxBodyBytes: DEFAULTS.maxBodyBytes,
  ...over,
});

describe("smoke library", () => {
  describe("nextDelay (the retry schedule)", () => {
    it("doubles from 250 ms up to 5 s when the deadline is far", () => {
      const delays = [1, 2, 3, 4, 5, 6, 7].map((n) => nextDelay(n, 0, 1e9));
      assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 5000, 5000]);
    });

    it("never waits past the deadline, and gives up when no attempt fits before it", () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 60 }),
          fc.nat(100_000),
          fc.integer({ min: -1000, max: 100_000 }),
          (retry, now, left) => {
            const delay = nextDelay(retry, now, now + left);
            if (left <= DEFAULT_BACKOFF.minAttemptMs) return delay === undefined;
            return (
              delay !== undefined &&
              delay >= 0 &&
              delay <= DEFAULT_BACKOFF.maxMs &&
              now + delay + DEFAULT_BACKOFF.minAttemptMs <= now + left
            );
          },
        ),
      );
    });

    it("never shrinks from one retry to the next while the deadline is far", () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 100 }), (retry) => {
          const a = nextDelay(retry, 0, 1e9) ?? -1;
          const b = nextDelay(retry + 1, 0, 1e9) ?? -1;
          return b >= a;
        }),
      );
    });
  });

  describe("failure semantics", () => {
    it("retries what a settling rollout produces, by undici's and Node's codes", () => {
      for (const code of [
        "ECONNREFUSED",
        "ECONNRESET",
        "UND_ERR_SOCKET",
        "UND_ERR_CONNECT_TIMEOUT",
        "UND_ERR_HEADERS_TIMEOUT",
        "UND_ERR_BODY_TIMEOUT",
      ]) {
        assert.equal(
          classifyError(Object.assign(new Error("x"), { code }), 10_000).transient,
          true,
          code,
        );
      }
      for (const status of [502, 503, 504])
        assert.equal(classifyStatus(status, "").transient, true);
    });

    it("fails at once on the rest", () => {
      for (const code of [
        "ENOTFOUND",
        "UND_ERR_RES_EXCEEDED_MAX_SIZE",
        "DEPTH_ZERO_SELF_SIGNED_CERT",
        "ERR_TLS_CERT_ALTNAME_INVALID",
        "CERT_HAS_EXPIRED",
        "SOMETHING_ELSE",
      ]) {
        assert.equal(
          classifyError(Object.assign(new Error("x"), { code }), 10_000).transient,
          false,
          code,
        );
      }
      assert.equal(classifyError(new Error("no code"), 1).transient, false);
      assert.equal(classifyError("a string", 1).text, "a string");
      for (const status of [400, 401, 403, 404, 409, 429, 500, 501])
        assert.equal(classifyStatus(status, "").transient, false);
    });

    it("says what came back in words, with the code", () => {
      const t = (code: string): string =>
        classifyError(Object.assign(new Error("m"), { code }), 10_000).text;
      assert.equal(t("ECONNREFUSED"), "connection refused");
      assert.equal(
        t("UND_ERR_HEADERS_TIMEOUT"),
        "no response headers within 10 s (UND_ERR_HEADERS_TIMEOUT)",
      );
      assert.match(t("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), /not trusted .*give its CA bundle/);
      assert.equal(classifyStatus(503, "Service Unavailable").text, "HTTP 503 Service Unavailable");
    });

    it("lists only codes it can describe as transient", () => {
      for (const code of TRANSIENT_ERROR_CODES) {
        assert.notEqual(
          classifyError(Object.assign(new Error("raw message"), { code }), 1000).text,
          `raw message (${code})`,
        );
      }
    });
  });

  describe("validation", () => {
    it("accepts the contract", () => {
      assert.deepEqual(planProblems(plan()), []);
      assert.deepEqual(checksProblems("checks", CONTRACT_CHECKS), []);
    });

    it("names the field and never quotes a header value", () => {
      fc.assert(
        fc.property(fc.stringMatching(/^[0-9a-f]{8,40}$/), (secret) => {
          const problems = planProblems(
            plan({
              baseUrl: "ftp://x",
              headers: { Host: secret, "Bad Name": secret, "X-Ok": `${secret}\n` },
            }),
          );
          return problems.length >= 3 && problems.every((p) => !p.includes(secret));
        }),
      );
    });

    it("refuses credentials, a query or a fragment in the base URL", () => {
      assert.match(
        planProblems(plan({ baseUrl: "https://u:p@x.example.com" })).join(),
        /must not carry credentials/,
      );
      assert.match(
        planProblems(plan({ baseUrl: "https://x.example.com/?a=1" })).join(),
        /query or a fragment/,
      );
      assert.match(planProblems(plan({ baseUrl: "not a url" })).join(), /is not a URL/);
    });

    it("checks each check", () => {
      const p = checksProblems("checks", [
        { name: "a b", method: "PUT", path: "x", body: "{", field: "a..b", equals: [] },
        { name: "v1", method: "GET", path: "/v", version: true, field: "version" },
        { name: "v2", method: "GET", path: "/v", version: true },
      ]);
      for (const text of [
        "name must be",
        "method must be GET, HEAD or POST",
        "path must start with /",
        "body is not JSON",
        "field must be a dot path",
        "equals must be",
        "version needs the field",
        "only one check may report the version",
      ]) {
        assert.ok(
          p.some((x) => x.includes(text)),
          `${text} in ${p.join(" | ")}`,
        );
      }
    });

    it("parses a header line as curl's -H does", () => {
      assert.deepEqual(parseHeaderLine("X-Token:  abc: def "), {
        name: "X-Token",
        value: "abc: def",
      });
      assert.deepEqual(parseHeaderLine("no colon"), {
        problem: "--header must look like 'Name: value'",
      });
      assert.ok("problem" in parseHeaderLine("Bad Name: v"));
    });
  });

  describe("redaction", () => {
    it("removes a secret in every form a server may echo it", () => {
      const s = 'tok"en/+ x';
      const text = `plain ${s} json ${JSON.stringify(s)} url ${encodeURIComponent(s)}`;
      const out = redact(text, [s]);
      assert.ok(
        !out.includes(s) &&
          !out.includes(encodeURIComponent(s)) &&
          !out.includes(JSON.stringify(s).slice(1, -1)),
      );
      assert.ok(out.includes(REDACTED));
    });

    it("leaves no token in any text around it", () => {
      const token = fc.stringMatching(/^[0-9a-f]{8,40}$/);
      fc.assert(
        fc.property(
          token,
          fc.array(fc.string()),
          (secret, parts) => !redact(parts.join(secret), [secret]).includes(secret),
        ),
      );
    });

    it("makes a body printable on one line", () => {
      assert.equal(snippet("a\n\tb\u0000c"), "a b c");
      assert.equal(snippet("x".repeat(300)).length, 201);
    });
  });

  describe("checks and fingerprints", () => {
    it("repeats the contract to any count, with unique names and one version check", () => {
      const checks = repeatChecks(CONTRACT_CHECKS, 64);
      assert.equal(checks.length, 64);
      assert.equal(new Set(checks.map((c) => c.name)).size, 64);
      assert.equal(checks.filter((c) => c.version === true).length, 1);
      assert.deepEqual(checksProblems("checks", checks), []);
    });

    it("describes what a check expects", () => {
      const [health, version, database] = CONTRACT_CHECKS;
      assert.equal(describeExpectation(health!, undefined), "2xx");
      assert.equal(describeExpectation(version!, "1.4.0"), '2xx with JSON .version == "1.4.0"');
      assert.equal(describeExpectation(database!, undefined), "2xx with JSON .connected == true");
    });

    it("hashes settings independently of key order", () => {
      assert.equal(stableJson({ b: 1, a: [{ d: 2, c: undefined }] }), '{"a":[{"d":2}],"b":1}');
      const s = {
        checks: [...CONTRACT_CHECKS],
        requestTimeoutMs: 1,
        deadlineMs: 2,
        headerNames: ["B", "a"],
      };
      assert.equal(settingsFingerprint(s), settingsFingerprint({ ...s, headerNames: ["A", "b"] }));
      assert.notEqual(settingsFingerprint(s), settingsFingerprint({ ...s, caPem: "x" }));
    });

    it("fingerprints header values without revealing them", () => {
      const a = headersFingerprint("salt", { "X-Token": "secret-1" });
      assert.equal(a, headersFingerprint("salt", { "x-token": "secret-1" }));
      assert.notEqual(a, headersFingerprint("salt", { "X-Token": "secret-2" }));
      assert.notEqual(a, headersFingerprint("pepper", { "X-Token": "secret-1" }));
      assert.ok(!a.includes("secret"));
    });
  });
});
