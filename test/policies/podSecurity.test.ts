/**
 * The Pod Security Standards "restricted" checks on their own: the program's own pod specs pass,
 * and a value unknown during preview is skipped. Each control, broken on its own in every kind of
 * workload, is in test/policies/pod/enforce-restricted-pod-security.test.ts.
 */
import assert from "node:assert/strict";
import { APP_UID, containerSecurityContext, podSecurityContext } from "../../model/workload";
import { restrictedPodSecurity } from "../../policies/lib/podSecurity";

/* eslint-disable @typescript-eslint/no-explicit-any */
function compliant(): any {
  return {
    securityContext: podSecurityContext(APP_UID),
    containers: [{ name: "app", image: "x", securityContext: containerSecurityContext(APP_UID) }],
    volumes: [{ name: "tmp", emptyDir: {} }],
  };
}

describe("policies/lib/podSecurity (Pod Security Standards restricted)", () => {
  it("passes the program's restricted security contexts", () => {
    assert.deepEqual(restrictedPodSecurity(compliant(), ["spec"]).findings, []);
  });

  it("skips what is unknown during preview and says where", () => {
    const spec = compliant();
    spec.containers[0].securityContext.runAsUser = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    spec.securityContext.seccompProfile = { type: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" };
    const r = restrictedPodSecurity(spec, ["spec"]);
    assert.deepEqual(r.findings, []);
    assert.deepEqual(r.unknown, [
      ["spec", "securityContext", "seccompProfile", "type"],
      ["spec", "containers", "0", "securityContext", "runAsUser"],
    ]);
  });
});
