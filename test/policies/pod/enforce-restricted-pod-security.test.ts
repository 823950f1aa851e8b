/**
 * enforce-restricted-pod-security: every pod of every kind meets the Pod Security Standards
 * "restricted" profile, in each of its containers, init and debugging containers included. One
 * case per control, each changing one field of the program's own restricted pod template.
 */
import { NAME } from "../../../policies/enforce-restricted-pod-security";
import { ALL_KINDS, describePodPolicy, failing } from "./workloads";

/* eslint-disable @typescript-eslint/no-explicit-any */
const pod = (s: any) => s.securityContext;
const app = (s: any) => s.containers[0].securityContext;
const init = (s: any) => s.initContainers[0].securityContext;
const unconfined = { type: "Unconfined" };
const hostProcess = { hostProcess: true };

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
    failing("host-network", (s) => (s.hostNetwork = true)).finds(/the pod sets hostNetwork/),
    failing("host-pid", (s) => (s.hostPID = true), "StatefulSet").finds(/the pod sets hostPID/),
    failing("host-ipc", (s) => (s.hostIPC = true), "Job").finds(/the pod sets hostIPC/),
    failing(
      "hostpath-volume",
      (s) => (s.volumes = [...(s.volumes ?? []), { name: "host", hostPath: { path: "/" } }]),
    ).finds(/volume host is of type hostPath; only .* are allowed \(restricted "Volume Types"\)/),
    failing(
      "unsafe-sysctl",
      (s) => (pod(s).sysctls = [{ name: "kernel.msgmax", value: "65536" }]),
      "DaemonSet",
    ).finds(/the pod sets sysctl kernel\.msgmax, which is not in the safe set/, "65536"),
    failing("pod-root-uid", (s) => (pod(s).runAsUser = 0)).finds(/the pod sets runAsUser 0/),
    failing("pod-seccomp-unconfined", (s) => (pod(s).seccompProfile = unconfined)).finds(
      /the pod's seccomp profile is Unconfined/,
    ),
    failing("pod-selinux-user", (s) => (pod(s).seLinuxOptions = { user: "system_u" }), "Pod").finds(
      /the pod sets an SELinux user or role/,
      "system_u",
    ),
    failing("pod-apparmor-unconfined", (s) => (pod(s).appArmorProfile = unconfined)).finds(
      /the pod's AppArmor profile is not RuntimeDefault or Localhost/,
    ),
    failing("pod-windows-host-process", (s) => (pod(s).windowsOptions = hostProcess)).finds(
      /the pod runs as a Windows HostProcess/,
    ),
    // Each container.
    failing("privilege-escalation", (s) => (app(s).allowPrivilegeEscalation = true)).finds(
      /container app does not set allowPrivilegeEscalation: false/,
    ),
    failing("run-as-non-root-false", (s) => (app(s).runAsNonRoot = false)).finds(
      /container app sets runAsNonRoot: false/,
    ),
    failing(
      "run-as-non-root-nowhere",
      (s) => (delete pod(s).runAsNonRoot, delete app(s).runAsNonRoot),
    ).finds(/container app may run as root: neither it nor the pod sets runAsNonRoot: true/),
    failing("root-uid", (s) => (app(s).runAsUser = 0), "ReplicaSet").finds(
      /container app runs as UID 0/,
    ),
    failing("seccomp-unconfined", (s) => (app(s).seccompProfile = unconfined)).finds(
      /container app's seccomp profile is Unconfined/,
    ),
    failing(
      "seccomp-nowhere",
      (s) => (delete pod(s).seccompProfile, delete app(s).seccompProfile),
    ).finds(/container app has no seccomp profile/),
    failing("seccomp-other-type", (s) => (app(s).seccompProfile = { type: "Bogus" })).finds(
      /container app's seccomp profile type is not RuntimeDefault or Localhost/,
      "Bogus",
    ),
    failing("capabilities-not-dropped", (s) => (app(s).capabilities = {})).finds(
      /container app does not drop ALL capabilities/,
    ),
    failing(
      "capability-added",
      (s) => (app(s).capabilities.add = ["SYS_ADMIN"]),
      "ReplicationController",
    ).finds(/container app adds capabilities SYS_ADMIN; only NET_BIND_SERVICE may be added/),
    failing("proc-mount-unmasked", (s) => (app(s).procMount = "Unmasked")).finds(
      /container app sets procMount Unmasked/,
    ),
    failing("selinux-type", (s) => (app(s).seLinuxOptions = { type: "spc_t" })).finds(
      /container app sets an SELinux type outside the allowed ones/,
      "spc_t",
    ),
    failing("apparmor-unconfined", (s) => (app(s).appArmorProfile = unconfined)).finds(
      /container app's AppArmor profile is not RuntimeDefault or Localhost/,
    ),
    failing("windows-host-process", (s) => (app(s).windowsOptions = hostProcess)).finds(
      /container app runs as a Windows HostProcess/,
    ),
    failing("host-port", (s) => (s.containers[0].ports[0].hostPort = 8080)).finds(
      /container app binds a host port/,
      "8080",
    ),
    // Where the containers are, and which environment.
    failing("init-root-uid", (s) => (init(s).runAsUser = 0)).finds(/container init runs as UID 0/),
    failing("cronjob-privileged", (s) => (app(s).privileged = true), "CronJob").finds(
      /container app is privileged/,
    ),
    failing(
      "cronjob-init-privilege-escalation",
      (s) => (init(s).allowPrivilegeEscalation = true),
      "CronJob",
    ).finds(/container init does not set allowPrivilegeEscalation: false/),
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
