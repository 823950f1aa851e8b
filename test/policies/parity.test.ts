/**
 * model/parity/ on its own: the items, the comparison rules, exceptions and their expiry, and
 * the agreement between the program's side (parityBaseline) and the policy's side
 * (parityFromResources) for each real stack.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ENVIRONMENTS, type EnvName } from "../../model/environment";
import {
  canonicalJson,
  type ParityDocument,
  parseParityDocument,
} from "../../model/parity/document";
import { compareParity } from "../../model/parity/compare";
import { describeAllowances } from "../../model/parity/allowances";
import { isDigestPinned, parseImageRef } from "../../model/image";
import { itemKind } from "../../model/parity/items";
import { parityFromResources } from "../../model/parity/fromResources";
import { parseParityExceptions, todayUtc } from "../../model/parity/exceptions";
import { FINGERPRINT, realRun } from "./support";

const DIGEST_A = `sha256:${"a".repeat(64)}`;
const DIGEST_B = `sha256:${"b".repeat(64)}`;

function doc(environment: EnvName, items: Record<string, unknown>): ParityDocument {
  const out: ParityDocument = {
    kind: "env-progression/parity-baseline",
    version: 1,
    environment,
    items: {},
  };
  for (const [id, v] of Object.entries(items)) {
    out.items[id] =
      v === "?"
        ? { unknown: true, display: "unknown until apply" }
        : { value: canonicalJson(v), display: String(v) };
  }
  return out;
}

const statusOf = (
  lower: ParityDocument,
  current: ParityDocument,
  id: string,
  ex: Parameters<typeof compareParity>[2] = [],
  today = "2030-06-01",
) => compareParity(lower, current, ex, today).items.find((i) => i.id === id);

describe("model/parity", () => {
  describe("items and comparison", () => {
    it("knows which items must be identical and which may differ", () => {
      for (const id of [
        "image:app",
        "flag:x",
        "envNames:app",
        "configMapKeys",
        "migration:001.sql",
        "probes:app",
        "securityContext:pod",
      ]) {
        assert.equal(itemKind(id), "identical", id);
      }
      for (const id of ["replicas", "resources:app", "hosts", "network:ingress", "network:egress"])
        assert.equal(itemKind(id), "may-differ", id);
      assert.equal(itemKind("secretValues"), "must-differ");
      assert.equal(itemKind("colour"), undefined);
    });

    it("equal values are equal; a may-differ difference is allowed with its reason; an identical one is forbidden", () => {
      const lower = doc("staging", { "flag:a": true, replicas: { replicas: 3 } });
      const same = statusOf(
        lower,
        doc("prod", { "flag:a": true, replicas: { replicas: 3 } }),
        "flag:a",
      );
      assert.equal(same?.status, "equal");
      const r = statusOf(
        lower,
        doc("prod", { "flag:a": true, replicas: { replicas: 5 } }),
        "replicas",
      );
      assert.equal(r?.status, "allowed");
      assert.match(r?.reason ?? "", /scale is sized per environment/);
      const f = statusOf(
        lower,
        doc("prod", { "flag:a": false, replicas: { replicas: 3 } }),
        "flag:a",
      );
      assert.equal(f?.status, "forbidden");
      assert.match(f?.reason ?? "", /differs between staging and prod/);
      assert.doesNotMatch(f?.reason ?? "", /true|false/);
    });

    it("an item on one side only is forbidden (a flag removed in prod)", () => {
      const c = statusOf(
        doc("staging", { "flag:a": true, "flag:b": false }),
        doc("prod", { "flag:a": true }),
        "flag:b",
      );
      assert.equal(c?.status, "forbidden");
      assert.match(c?.reason ?? "", /staging has it and prod does not/);
    });

    it("unknown values are never a difference, whole prefixes included", () => {
      const lower = doc("staging", {
        "flag:a": true,
        "flag:b": true,
        "image:app": `node@${DIGEST_A}`,
      });
      const current = doc("prod", { "flag:*": "?", "image:app": "?" });
      for (const id of ["flag:a", "flag:b", "image:app"])
        assert.equal(statusOf(lower, current, id)?.status, "unknown", id);
    });

    it("images: the same digest is equal; another digest, another repository or no digest is forbidden", () => {
      const lower = doc("staging", { "image:app": `node:24-alpine@${DIGEST_A}` });
      assert.equal(
        statusOf(lower, doc("prod", { "image:app": `node:24-alpine@${DIGEST_A}` }), "image:app")
          ?.status,
        "equal",
      );
      const other = statusOf(
        lower,
        doc("prod", { "image:app": `node:24-alpine@${DIGEST_B}` }),
        "image:app",
      );
      assert.equal(other?.status, "forbidden");
      assert.match(other?.reason ?? "", /another digest/);
      assert.match(
        statusOf(
          lower,
          doc("prod", { "image:app": `other/node:24-alpine@${DIGEST_A}` }),
          "image:app",
        )?.reason ?? "",
        /another repository/,
      );
      assert.match(
        statusOf(lower, doc("prod", { "image:app": "node:24-alpine" }), "image:app")?.reason ?? "",
        /does not pin the image by digest/,
      );
    });

    it("images: dev may use a tag; staging's digest of the same repository and tag is allowed, and says why", () => {
      const dev = doc("dev", { "image:app": "node:24-alpine" });
      const ok = statusOf(
        dev,
        doc("staging", { "image:app": `node:24-alpine@${DIGEST_A}` }),
        "image:app",
      );
      assert.equal(ok?.status, "allowed");
      assert.match(
        ok?.reason ?? "",
        /dev may use a tag; the repository and tag match and staging pins the digest/,
      );
      assert.equal(
        statusOf(dev, doc("staging", { "image:app": `node@${DIGEST_A}` }), "image:app")?.status,
        "allowed",
      );
      assert.equal(
        statusOf(dev, doc("staging", { "image:app": `node:22-alpine@${DIGEST_A}` }), "image:app")
          ?.status,
        "forbidden",
      );
      assert.equal(
        statusOf(dev, doc("staging", { "image:app": `nginx:24-alpine@${DIGEST_A}` }), "image:app")
          ?.status,
        "forbidden",
      );
      // only dev: a tag in staging is no baseline for prod
      assert.equal(
        statusOf(
          doc("staging", { "image:app": "node:24-alpine" }),
          doc("prod", { "image:app": `node:24-alpine@${DIGEST_A}` }),
          "image:app",
        )?.status,
        "forbidden",
      );
    });

    it("parses image references, with registry ports and digests", () => {
      assert.deepEqual(parseImageRef("node:24-alpine"), { repository: "node", tag: "24-alpine" });
      assert.deepEqual(parseImageRef(`registry:5000/team/app:1.2@${DIGEST_A}`), {
        repository: "registry:5000/team/app",
        tag: "1.2",
        digest: DIGEST_A,
      });
      assert.deepEqual(parseImageRef("registry:5000/team/app"), {
        repository: "registry:5000/team/app",
      });
      assert.ok(isDigestPinned(`a@${DIGEST_A}`));
      assert.ok(!isDigestPinned("a:latest"));
    });

    it("describes network allowances in words, honouring policyTypes", () => {
      const d = describeAllowances([
        {
          policyTypes: ["Egress"],
          egress: [
            {
              to: [
                {
                  namespaceSelector: {
                    matchLabels: { "kubernetes.io/metadata.name": "kube-system" },
                  },
                },
              ],
              ports: [{ protocol: "UDP", port: 53 }],
            },
          ],
          ingress: [{}],
        },
        { ingress: [{ from: [{ podSelector: {} }] }] },
        { egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }] },
      ]);
      assert.deepEqual(d, {
        ingress: ["the same namespace"],
        egress: ["cidr 0.0.0.0/0", "namespace kube-system on UDP 53"],
      });
    });

    it("canonical JSON does not depend on key order", () => {
      fc.assert(
        fc.property(
          fc.dictionary(fc.string(), fc.oneof(fc.integer(), fc.string(), fc.boolean())),
          (o) => {
            const reversed = Object.fromEntries(Object.entries(o).reverse());
            return canonicalJson(o) === canonicalJson(reversed);
          },
        ),
      );
    });
  });

  describe("exceptions", () => {
    const lower = doc("staging", { "flag:a": true, "flag:b": true });
    const current = doc("prod", { "flag:a": false, "flag:b": false });

    it("a valid exception allows the difference, with its reason and expiry, until the end of its last day", () => {
      const ex = [
        { item: "flag:a", reason: "waiting for the provider's prod keys", expires: "2030-06-01" },
      ];
      const c = statusOf(lower, current, "flag:a", ex, "2030-06-01");
      assert.equal(c?.status, "allowed");
      assert.equal(c?.reason, "exception until 2030-06-01: waiting for the provider's prod keys");
      assert.equal(
        statusOf(lower, current, "flag:b", ex, "2030-06-01")?.status,
        "forbidden",
        "only its item",
      );
    });

    it("an expired exception stops applying, and says it expired", () => {
      const ex = [
        { item: "flag:a", reason: "waiting for the provider's prod keys", expires: "2030-05-31" },
      ];
      const c = statusOf(lower, current, "flag:a", ex, "2030-06-01");
      assert.equal(c?.status, "forbidden");
      assert.match(c?.reason ?? "", /expired after 2030-05-31/);
      assert.equal(c?.exception?.expired, true);
    });

    it("a prefix exception (flag:*) covers every flag; an unused exception is listed", () => {
      const ex = [
        { item: "flag:*", reason: "flags are being migrated this sprint", expires: "2030-12-31" },
        { item: "image:app", reason: "no image difference at all here", expires: "2030-12-31" },
      ];
      const r = compareParity(lower, current, ex, "2030-06-01");
      assert.ok(
        r.items.filter((i) => i.id.startsWith("flag:")).every((i) => i.status === "allowed"),
      );
      assert.deepEqual(
        r.unusedExceptions.map((e) => e.item),
        ["image:app"],
      );
    });

    it("parses the config value (JSON text as the engine passes it), every problem at once, never a value", () => {
      const ok = parseParityExceptions(
        JSON.stringify([{ item: "flag:a", reason: "a good enough reason", expires: "2031-01-31" }]),
      );
      assert.deepEqual(ok, {
        exceptions: [{ item: "flag:a", reason: "a good enough reason", expires: "2031-01-31" }],
        errors: [],
      });
      const bad = parseParityExceptions([
        { item: "replicas", reason: "short", expires: "2031-02-30" },
        { item: "secretValues", reason: "a good enough reason", expires: "2031-01-01" },
        { item: "flag:a", reason: "a good enough reason", expires: "2031-01-01", owner: "me" },
        "flag:b",
        { item: "colour:x", reason: "a good enough reason", expires: "tomorrow" },
      ]);
      assert.deepEqual(bad.exceptions, []);
      assert.deepEqual(bad.errors, [
        "env-progression:parityExceptions[0].item may differ between environments already and needs no exception",
        "env-progression:parityExceptions[0].reason is missing or too short; expected at least 10 characters saying why the difference is acceptable",
        "env-progression:parityExceptions[0].expires is not a real date; expected the last day it applies, YYYY-MM-DD",
        "env-progression:parityExceptions[1].item cannot be excepted: a lower environment's secret value is never allowed",
        "env-progression:parityExceptions[2].owner is not a known field; expected only item, reason and expires",
        "env-progression:parityExceptions[3] is not a map; expected {item, reason, expires}",
        "env-progression:parityExceptions[4].item is not a parity item; expected one of image, flag, envNames, configMapKeys, migration, probes, securityContext (with :<name>)",
        "env-progression:parityExceptions[4].expires is not a real date; expected the last day it applies, YYYY-MM-DD",
      ]);
      assert.deepEqual(parseParityExceptions("not json").errors, [
        "env-progression:parityExceptions is not a list; expected a YAML list of {item, reason, expires}",
      ]);
      assert.deepEqual(parseParityExceptions(undefined), { exceptions: [], errors: [] });
      assert.match(todayUtc(new Date("2031-03-04T23:59:59Z")), /^2031-03-04$/);
    });

    it("refuses a malformed baseline document field by field", () => {
      assert.deepEqual(
        parseParityDocument({ kind: "x", version: 2, environment: "qa", items: { bogus: 1 } })
          .errors,
        [
          'baseline.kind is not "env-progression/parity-baseline"',
          "baseline.version is not 1; produce the baseline with this version of the program",
          "baseline.environment is not one of dev, staging, prod",
          'baseline.items["bogus"] is not {value, display}',
        ],
      );
    });
  });

  describe("agreement: the program's parityBaseline equals what the policy reads from the registered resources", () => {
    for (const env of ENVIRONMENTS) {
      it(`${env}`, async function () {
        this.timeout(60_000);
        const run = await realRun(env);
        // Only the program's own output proves the agreement: the fallback verify computes when
        // the output is missing is this test's side recomputed, and would agree with anything.
        assert.equal(
          run.baselineSource,
          "stack output",
          `${env}: the program does not export parityBaseline; export it from index.ts`,
        );
        const program = run.baseline;
        const fromResources = parityFromResources(run.resources, {
          fingerprint: program.secrets?.params ?? FINGERPRINT,
        });
        assert.deepEqual(fromResources.document.items, program.items);
        assert.equal(fromResources.document.environment, env);
        assert.deepEqual(fromResources.unknown, []);
        // Every secret value the resources hold is one the program fingerprinted (the program also
        // knows secrets no resource holds yet, such as the smoke token).
        const programFps = new Set(program.secrets?.values.map((v) => v.fingerprint));
        assert.ok((fromResources.document.secrets?.values.length ?? 0) > 0);
        for (const v of fromResources.document.secrets?.values ?? [])
          assert.ok(programFps.has(v.fingerprint), v.source);
        // The comparison of a stack with itself is all equal, the secrets row aside.
        const self = compareParity(program, fromResources.document);
        assert.deepEqual(
          self.items.filter((i) => i.status !== "equal").map((i) => i.id),
          ["secretValues"],
        );
        assert.ok(Object.keys(program.items).length >= 15, Object.keys(program.items).join());
      });
    }
  });
});
