/**
 * The Pod Security Standards "restricted" checks on their own: the program's own pod specs pass;
 * each control, broken on its own, is named.
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

function findings(change: (spec: any) => void): string[] {
  const spec = compliant();
  change(spec);
  return restrictedPodSecurity(spec, ["spec"]).findings;
}

describe("policies/lib/podSecurity (Pod Security Standards restricted)", () => {
  it("passes the program's restricted security contexts", () => {
    assert.deepEqual(
      findings(() => undefined),
      [],
    );
  });

  const cases: [string, (s: any) => void, RegExp][] = [
    [
      "root UID on the container",
      (s) => (s.containers[0].securityContext.runAsUser = 0),
      /runs as UID 0/,
    ],
    ["root UID on the pod", (s) => (s.securityContext.runAsUser = 0), /the pod sets runAsUser 0/],
    [
      "runAsNonRoot false",
      (s) => (s.containers[0].securityContext.runAsNonRoot = false),
      /sets runAsNonRoot: false/,
    ],
    [
      "runAsNonRoot nowhere",
      (s) => (
        delete s.securityContext.runAsNonRoot,
        delete s.containers[0].securityContext.runAsNonRoot
      ),
      /neither it nor the pod sets runAsNonRoot/,
    ],
    [
      "privilege escalation",
      (s) => delete s.containers[0].securityContext.allowPrivilegeEscalation,
      /Privilege Escalation/,
    ],
    ["privileged", (s) => (s.containers[0].securityContext.privileged = true), /is privileged/],
    [
      "capabilities not dropped",
      (s) => (s.containers[0].securityContext.capabilities = {}),
      /does not drop ALL/,
    ],
    [
      "a capability added",
      (s) => (s.containers[0].securityContext.capabilities.add = ["NET_ADMIN"]),
      /adds capabilities NET_ADMIN/,
    ],
    [
      "seccomp unconfined",
      (s) => (s.containers[0].securityContext.seccompProfile = { type: "Unconfined" }),
      /Unconfined/,
    ],
    [
      "no seccomp anywhere",
      (s) => (
        delete s.securityContext.seccompProfile,
        delete s.containers[0].securityContext.seccompProfile
      ),
      /has no seccomp profile/,
    ],
    [
      "hostPath volume",
      (s) => s.volumes.push({ name: "h", hostPath: { path: "/" } }),
      /Volume Types/,
    ],
    ["host network", (s) => (s.hostNetwork = true), /hostNetwork/],
    [
      "host port",
      (s) => (s.containers[0].ports = [{ containerPort: 80, hostPort: 80 }]),
      /host port/,
    ],
    [
      "an init container as root",
      (s) =>
        (s.initContainers = [
          { name: "init", securityContext: { ...containerSecurityContext(APP_UID), runAsUser: 0 } },
        ]),
      /container init runs as UID 0/,
    ],
    [
      "unsafe sysctl",
      (s) => (s.securityContext.sysctls = [{ name: "kernel.msgmax", value: "1" }]),
      /sysctl kernel\.msgmax/,
    ],
  ];
  for (const [name, change, expected] of cases) {
    it(`names the control: ${name}`, () => {
      const f = findings(change);
      assert.ok(
        f.some((x) => expected.test(x)),
        f.join("\n"),
      );
    });
  }

  it("NET_BIND_SERVICE may be added; seccomp on the pod covers the containers", () => {
    assert.deepEqual(
      findings((s) => (s.containers[0].securityContext.capabilities.add = ["NET_BIND_SERVICE"])),
      [],
    );
    assert.deepEqual(
      findings((s) => delete s.containers[0].securityContext.seccompProfile),
      [],
    );
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
