import assert from "node:assert/strict";
import { POLICY } from "../../model/policyNames";
import { allPolicies } from "../../policies/lib/catalog";

describe("POLICY (model/policyNames.ts)", () => {
  it("names exactly the pack's policies, so a name the tools use is one the pack runs", () => {
    const pack = allPolicies()
      .map((p) => p.name)
      .sort();
    assert.deepEqual([...Object.values(POLICY)].sort(), pack);
  });
});
