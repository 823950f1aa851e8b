import assert from "node:assert/strict";
import fc from "fast-check";
import { formatCpu, parseCpu, parseMemory } from "../../model/quantity";
import { quotaFor } from "../../model/workload";

describe("model/quantity", () => {
  it("parses CPU and memory quantities as Kubernetes writes them", () => {
    assert.equal(parseCpu("250m"), 250);
    assert.equal(parseCpu("1"), 1000);
    assert.equal(parseCpu("0.5"), 500);
    assert.equal(parseCpu("1 core"), undefined);
    assert.equal(parseMemory("256Mi"), 256 * 2 ** 20);
    assert.equal(parseMemory("1G"), 1e9);
    assert.equal(parseMemory("lots"), undefined);
    assert.equal(parseMemory("1Qi"), undefined);
  });

  it("formats millicores back to what parses to the same value", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10_000_000 }), (m) => parseCpu(formatCpu(m)) === m));
  });
});

describe("model/workload quotaFor", () => {
  const resources = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } };

  it("sizes prod's quota for 50 pods plus surge, the database and the migration", () => {
    const q = quotaFor({ replicas: 5, maxReplicas: 50, resources });
    assert.equal(q.pods, 50 + 13 + 2);
    // 63 app pods x 500m + database 1 + migration 500m
    assert.equal(q.limitsCpu, formatCpu(63 * 500 + 1000 + 500));
  });

  it("always leaves room for a rolling update's surge and the migration, whatever the scale", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }), (replicas, extra) => {
        const maxReplicas = extra === undefined ? undefined : replicas + extra;
        const q = quotaFor({ replicas, maxReplicas, resources });
        const peak = maxReplicas ?? replicas;
        return q.pods >= peak + 1 + 2 && (parseCpu(q.limitsCpu) ?? 0) >= peak * 500;
      }),
    );
  });
});
