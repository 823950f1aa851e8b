/**
 * enforce-restricted-pod-security: every pod of every kind meets the Pod Security Standards
 * "restricted" profile, in each of its containers, init and debugging containers included. One
 * case per control, each changing one field of the program's own restricted pod template.
 */
import { NAME } from "../../../policies/enforce-restricted-pod-security";
import { type PodCase, ALL_KINDS, describePodPolicy, type RuleCase } from "./workloads";

/* eslint-disable @typescript-eslint/no-explicit-any */
const pod = (s: any) => s.securityContext;
const app = (s: any) => s.containers[0].securityContext;
const init = (s: any) => s.initContainers[0].securityContext;

/** A failing case on a Deployment (unless another kind is named): one field, one finding. */
function rule(
  id: string,
  change: NonNullable<PodCase["change"]>,
  expect: RegExp,
  kind: PodCase["kind"] = "Deployment",
  value?: string,
): RuleCase {
  return { title: id.replace(/-/g, " "), case: { id, kind, change }, expect: [expect], value };
}

describePodPolicy({
  policy: NAME,
  source: "-app-deployment",
  kinds: ALL_KINDS,
  eachKind: {
    title: "a privileged container fails",
    change: (s) => (app(s).privileged = true),
    expect: [
      /container app is privileged \(baseline "Privileged Containers"\): the environment's namespace enforces Pod Security "restricted".*\. Fix: use the restricted security context of model\/workload\.ts/,
    ],
  },
  rules: [
    // The pod as a whole.
    rule("host-network", (s) => (s.hostNetwork = true), /the pod sets hostNetwork/),
    rule("host-pid", (s) => (s.hostPID = true), /the pod sets hostPID/, "StatefulSet"),
    rule("host-ipc", (s) => (s.hostIPC = true), /the pod sets hostIPC/, "Job"),
    rule(
      "hostpath-volume",
      (s) => (s.volumes = [...(s.volumes ?? []), { name: "host", hostPath: { path: "/" } }]),
      /volume host is of type hostPath; only .* are allowed \(restricted "Volume Types"\)/,
    ),
    rule(
      "unsafe-sysctl",
      (s) => (pod(s).sysctls = [{ name: "kernel.msgmax", value: "65536" }]),
      /the pod sets sysctl kernel\.msgmax, which is not in the safe set/,
      "DaemonSet",
      "65536",
    ),
    rule("pod-root-uid", (s) => (pod(s).runAsUser = 0), /the pod sets runAsUser 0/),
    rule(
      "pod-seccomp-unconfined",
      (s) => (pod(s).seccompProfile = { type: "Unconfined" }),
      /the pod's seccomp profile is Unconfined/,
    ),
    rule(
      "pod-selinux-user",
      (s) => (pod(s).seLinuxOptions = { user: "system_u" }),
      /the pod sets an SELinux user or role/,
      "Pod",
      "system_u",
    ),
    rule(
      "pod-apparmor-unconfined",
      (s) => (pod(s).appArmorProfile = { type: "Unconfined" }),
      /the pod's AppArmor profile is not RuntimeDefault or Localhost/,
    ),
    rule(
      "pod-windows-host-process",
      (s) => (pod(s).windowsOptions = { hostProcess: true }),
      /the pod runs as a Windows HostProcess/,
    ),
    // Each container.
    rule(
      "privilege-escalation",
      (s) => (app(s).allowPrivilegeEscalation = true),
      /container app does not set allowPrivilegeEscalation: false/,
    ),
    rule(
      "run-as-non-root-false",
      (s) => (app(s).runAsNonRoot = false),
      /container app sets runAsNonRoot: false/,
    ),
    rule(
      "run-as-non-root-nowhere",
      (s) => (delete pod(s).runAsNonRoot, delete app(s).runAsNonRoot),
      /container app may run as root: neither it nor the pod sets runAsNonRoot: true/,
    ),
    rule("root-uid", (s) => (app(s).runAsUser = 0), /container app runs as UID 0/, "ReplicaSet"),
    rule(
      "seccomp-unconfined",
      (s) => (app(s).seccompProfile = { type: "Unconfined" }),
      /container app's seccomp profile is Unconfined/,
    ),
    rule(
      "seccomp-nowhere",
      (s) => (delete pod(s).seccompProfile, delete app(s).seccompProfile),
      /container app has no seccomp profile/,
    ),
    rule(
      "seccomp-other-type",
      (s) => (app(s).seccompProfile = { type: "Bogus" }),
      /container app's seccomp profile type is not RuntimeDefault or Localhost/,
      "Deployment",
      "Bogus",
    ),
    rule(
      "capabilities-not-dropped",
      (s) => (app(s).capabilities = {}),
      /container app does not drop ALL capabilities/,
    ),
    rule(
      "capability-added",
      (s) => (app(s).capabilities.add = ["SYS_ADMIN"]),
      /container app adds capabilities SYS_ADMIN; only NET_BIND_SERVICE may be added/,
      "ReplicationController",
    ),
    rule(
      "proc-mount-unmasked",
      (s) => (app(s).procMount = "Unmasked"),
      /container app sets procMount Unmasked/,
    ),
    rule(
      "selinux-type",
      (s) => (app(s).seLinuxOptions = { type: "spc_t" }),
      /container app sets an SELinux type outside the allowed ones/,
      "Deployment",
      "spc_t",
    ),
    rule(
      "apparmor-unconfined",
      (s) => (app(s).appArmorProfile = { type: "Unconfined" }),
      /container app's AppArmor profile is not RuntimeDefault or Localhost/,
    ),
    rule(
      "windows-host-process",
      (s) => (app(s).windowsOptions = { hostProcess: true }),
      /container app runs as a Windows HostProcess/,
    ),
    rule(
      "host-port",
      (s) => (s.containers[0].ports[0].hostPort = 8080),
      /container app binds a host port/,
      "Deployment",
      "8080",
    ),
    // Where the containers are, and which environment.
    {
      title: "privilege escalation in dev (its namespace enforces restricted too)",
      case: {
        id: "dev-privilege-escalation",
        kind: "StatefulSet",
        stack: "dev",
        change: (s) => (app(s).allowPrivilegeEscalation = true),
      },
      expect: [/container app does not set allowPrivilegeEscalation: false/],
    },
    rule("init-root-uid", (s) => (init(s).runAsUser = 0), /container init runs as UID 0/),
    rule(
      "cronjob-privileged",
      (s) => (app(s).privileged = true),
      /container app is privileged/,
      "CronJob",
    ),
    rule(
      "cronjob-init-privilege-escalation",
      (s) => (init(s).allowPrivilegeEscalation = true),
      /container init does not set allowPrivilegeEscalation: false/,
      "CronJob",
    ),
    {
      title: "a debugging (ephemeral) container without a security context",
      case: {
        id: "ephemeral-no-security-context",
        kind: "Pod",
        change: (s) => (s.ephemeralContainers = [{ name: "debug", image: s.containers[0].image }]),
      },
      // The pod's runAsNonRoot and seccomp profile cover it; nothing covers these two.
      expect: [
        /container debug does not set allowPrivilegeEscalation: false/,
        /container debug does not drop ALL capabilities/,
      ],
    },
  ],
  allowed: [
    {
      title: "NET_BIND_SERVICE added",
      case: {
        id: "net-bind-service",
        kind: "Deployment",
        change: (s) => (app(s).capabilities.add = ["NET_BIND_SERVICE"]),
      },
    },
    {
      title: "a container without a seccomp profile of its own, in a pod that sets one",
      case: {
        id: "seccomp-from-pod",
        kind: "Deployment",
        change: (s) => delete app(s).seccompProfile,
      },
    },
    {
      title: "a container without runAsNonRoot of its own, in a pod that sets it",
      case: {
        id: "non-root-from-pod",
        kind: "CronJob",
        change: (s) => delete init(s).runAsNonRoot,
      },
    },
  ],
});
