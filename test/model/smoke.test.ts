import assert from "node:assert/strict";
import {
  describeSmokeFailure,
  isSmokeTypeChain,
  readSmokeFailure,
  SMOKE_COMPONENT_TYPE,
  SMOKE_RUN_TYPE,
  smokeFailureLine,
  type SmokeFailure,
} from "../../model/smoke";

describe("model/smoke: the failed run's line, written and read back", () => {
  const cases: SmokeFailure[] = [
    { baseUrl: "http://127.0.0.1:8080", failed: ["critical-action"], total: 4 },
    { baseUrl: "https://staging.example.com/app", failed: ["health", "version#2"], total: 8 },
    { baseUrl: "http://s", failed: [], total: 4 },
  ];
  for (const f of cases) {
    it(`round-trips ${f.failed.length} failed of ${f.total}, inside a longer message`, () => {
      const message = `Error: ${smokeFailureLine(f, " in 1.2 s (deadline of 30.0 s reached)")}\n  ✗ x`;
      assert.deepEqual(readSmokeFailure(message), f);
    });
  }

  it("names the failed checks in the reason promote prints", () => {
    assert.equal(
      describeSmokeFailure(cases[0]!),
      "1 of 4 checks failed (critical-action) against http://127.0.0.1:8080",
    );
  });

  it("reads nothing from prose that only mentions smoke tests, or from a count the list contradicts", () => {
    assert.equal(readSmokeFailure("smoke tests failed: version: expected 1.3.0"), undefined);
    assert.equal(
      readSmokeFailure("smoke tests failed against http://s: 2 of 4 checks failed (health)"),
      undefined,
    );
  });

  it("knows the smoke types anywhere in a type chain, and no prefix of them", () => {
    assert.ok(isSmokeTypeChain(`${SMOKE_COMPONENT_TYPE}$${SMOKE_RUN_TYPE}`));
    assert.ok(isSmokeTypeChain(`env-progression:app:Environment$${SMOKE_RUN_TYPE}`));
    assert.ok(!isSmokeTypeChain("env-progression:smoke:Other$pulumi-nodejs:dynamic:Resource"));
  });
});
