/**
 * The Pod Security Standards "restricted" profile (which includes "baseline"), as checks over a
 * pod spec: https://kubernetes.io/docs/concepts/security/pod-security-standards/ (v1.30, the
 * version `latest` enforces in the namespaces model/workload.ts labels). Each finding says which
 * control and which container, never a value. Unknown values are skipped and their paths returned.
 */
import { containersOf, isObject, isUnknown } from "../../model/resources";

/** Restricted: "Volume Types". */
export const ALLOWED_VOLUME_TYPES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
];
/** Baseline: "Sysctls", the safe set. */
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);
const ALLOWED_SELINUX_TYPES = new Set([
  "",
  "container_t",
  "container_init_t",
  "container_kvm_t",
  "container_engine_t",
]);

export interface PodSecurityResult {
  findings: string[];
  unknown: string[][];
}

/** Reads `obj[key]`, recording the path when it is unknown; returns undefined for unknown. */
function read(obj: unknown, key: string, path: string[], unknown: string[][]): unknown {
  if (!isObject(obj)) return undefined;
  const v = obj[key];
  if (isUnknown(v)) {
    unknown.push([...path, key]);
    return undefined;
  }
  return v;
}

export function restrictedPodSecurity(
  spec: Record<string, unknown>,
  path: string[],
): PodSecurityResult {
  const findings: string[] = [];
  const unknown: string[][] = [];
  const podSc = read(spec, "securityContext", path, unknown);
  const podScPath = [...path, "securityContext"];

  for (const ns of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (read(spec, ns, path, unknown) === true)
      findings.push(
        `the pod sets ${ns}: it shares the node's namespaces (baseline "Host Namespaces")`,
      );
  }
  const volumes = read(spec, "volumes", path, unknown);
  if (Array.isArray(volumes)) {
    volumes.forEach((v, i) => {
      if (!isObject(v)) return;
      const kinds = Object.keys(v).filter((k) => k !== "name");
      const bad = kinds.filter((k) => !ALLOWED_VOLUME_TYPES.includes(k));
      if (bad.length > 0) {
        findings.push(
          `volume ${typeof v.name === "string" ? v.name : `#${i}`} is of type ${bad.join(", ")}; only ${ALLOWED_VOLUME_TYPES.join(", ")} are allowed (restricted "Volume Types")`,
        );
      }
    });
  }
  const sysctls = read(podSc, "sysctls", podScPath, unknown);
  if (Array.isArray(sysctls)) {
    for (const s of sysctls) {
      if (isObject(s) && typeof s.name === "string" && !SAFE_SYSCTLS.has(s.name))
        findings.push(
          `the pod sets sysctl ${s.name}, which is not in the safe set (baseline "Sysctls")`,
        );
    }
  }

  const podNonRoot = read(podSc, "runAsNonRoot", podScPath, unknown);
  const podUser = read(podSc, "runAsUser", podScPath, unknown);
  if (podUser === 0)
    findings.push(`the pod sets runAsUser 0 (root) (restricted "Running as Non-root user")`);
  const podSeccomp = seccompType(
    read(podSc, "seccompProfile", podScPath, unknown),
    [...podScPath, "seccompProfile"],
    unknown,
  );
  if (podSeccomp === "Unconfined")
    findings.push(`the pod's seccomp profile is Unconfined (restricted "Seccomp")`);
  checkSeLinux(read(podSc, "seLinuxOptions", podScPath, unknown), "the pod", findings);
  checkAppArmor(read(podSc, "appArmorProfile", podScPath, unknown), "the pod", findings);
  if (
    isObject(podSc) &&
    isObject(podSc.windowsOptions) &&
    podSc.windowsOptions.hostProcess === true
  ) {
    findings.push(`the pod runs as a Windows HostProcess (baseline "HostProcess")`);
  }

  for (const c of containersOf(spec, path, unknown)) {
    const who = `container ${c.name}`;
    const sc = read(c.container, "securityContext", c.path, unknown);
    const scPath = [...c.path, "securityContext"];
    if (read(sc, "privileged", scPath, unknown) === true)
      findings.push(`${who} is privileged (baseline "Privileged Containers")`);
    if (
      read(sc, "allowPrivilegeEscalation", scPath, unknown) !== false &&
      !(isObject(sc) && isUnknown(sc.allowPrivilegeEscalation))
    ) {
      findings.push(
        `${who} does not set allowPrivilegeEscalation: false (restricted "Privilege Escalation")`,
      );
    }
    const nonRoot = read(sc, "runAsNonRoot", scPath, unknown);
    const unknownNonRoot =
      (isObject(sc) && isUnknown(sc.runAsNonRoot)) ||
      (isObject(podSc) && isUnknown(podSc.runAsNonRoot));
    if (nonRoot === false)
      findings.push(
        `${who} sets runAsNonRoot: false, so it may run as root (restricted "Running as Non-root")`,
      );
    else if (nonRoot !== true && podNonRoot !== true && !unknownNonRoot) {
      findings.push(
        `${who} may run as root: neither it nor the pod sets runAsNonRoot: true (restricted "Running as Non-root")`,
      );
    }
    if (read(sc, "runAsUser", scPath, unknown) === 0)
      findings.push(`${who} runs as UID 0 (root) (restricted "Running as Non-root user")`);
    const seccomp = seccompType(
      read(sc, "seccompProfile", scPath, unknown),
      [...scPath, "seccompProfile"],
      unknown,
    );
    if (seccomp === "Unconfined")
      findings.push(`${who}'s seccomp profile is Unconfined (restricted "Seccomp")`);
    else if (
      seccomp === undefined &&
      podSeccomp === undefined &&
      !(isObject(sc) && isUnknown(sc.seccompProfile)) &&
      !(isObject(podSc) && isUnknown(podSc.seccompProfile))
    ) {
      findings.push(
        `${who} has no seccomp profile: neither it nor the pod sets RuntimeDefault or Localhost (restricted "Seccomp")`,
      );
    } else if (
      seccomp !== undefined &&
      seccomp !== "RuntimeDefault" &&
      seccomp !== "Localhost" &&
      seccomp !== UNKNOWN_TYPE
    ) {
      findings.push(
        `${who}'s seccomp profile type is not RuntimeDefault or Localhost (restricted "Seccomp")`,
      );
    }
    const caps = read(sc, "capabilities", scPath, unknown);
    const drop = read(caps, "drop", [...scPath, "capabilities"], unknown);
    const add = read(caps, "add", [...scPath, "capabilities"], unknown);
    const dropUnknown = isObject(caps) && isUnknown(caps.drop);
    if (!dropUnknown && !(Array.isArray(drop) && drop.some((d) => d === "ALL"))) {
      findings.push(`${who} does not drop ALL capabilities (restricted "Capabilities")`);
    }
    if (Array.isArray(add)) {
      const extra = add.filter((a) => typeof a === "string" && a !== "NET_BIND_SERVICE");
      if (extra.length > 0)
        findings.push(
          `${who} adds capabilities ${extra.join(", ")}; only NET_BIND_SERVICE may be added (restricted "Capabilities")`,
        );
    }
    if (read(sc, "procMount", scPath, unknown) === "Unmasked")
      findings.push(`${who} sets procMount Unmasked (baseline "/proc Mount Type")`);
    checkSeLinux(read(sc, "seLinuxOptions", scPath, unknown), who, findings);
    checkAppArmor(read(sc, "appArmorProfile", scPath, unknown), who, findings);
    if (isObject(sc) && isObject(sc.windowsOptions) && sc.windowsOptions.hostProcess === true)
      findings.push(`${who} runs as a Windows HostProcess (baseline "HostProcess")`);
    const ports = read(c.container, "ports", c.path, unknown);
    if (
      Array.isArray(ports) &&
      ports.some((p) => isObject(p) && typeof p.hostPort === "number" && p.hostPort !== 0)
    ) {
      findings.push(`${who} binds a host port (baseline "Host Ports")`);
    }
  }
  return { findings, unknown };
}

const UNKNOWN_TYPE = "(unknown)";

function seccompType(profile: unknown, path: string[], unknown: string[][]): string | undefined {
  if (!isObject(profile)) return undefined;
  if (isUnknown(profile.type)) {
    unknown.push([...path, "type"]);
    return UNKNOWN_TYPE;
  }
  return typeof profile.type === "string" ? profile.type : undefined;
}

function checkSeLinux(options: unknown, who: string, findings: string[]): void {
  if (!isObject(options)) return;
  if (typeof options.type === "string" && !ALLOWED_SELINUX_TYPES.has(options.type))
    findings.push(`${who} sets an SELinux type outside the allowed ones (baseline "SELinux")`);
  if (options.user !== undefined || options.role !== undefined)
    findings.push(`${who} sets an SELinux user or role (baseline "SELinux")`);
}

function checkAppArmor(profile: unknown, who: string, findings: string[]): void {
  if (
    isObject(profile) &&
    typeof profile.type === "string" &&
    profile.type !== "RuntimeDefault" &&
    profile.type !== "Localhost"
  ) {
    findings.push(
      `${who}'s AppArmor profile is not RuntimeDefault or Localhost (baseline "AppArmor")`,
    );
  }
}
