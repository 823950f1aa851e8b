/**
 * The shape both sides of parity are reduced to before items are made: one builder, two sources
 * (the resources a policy is shown, the config the program reads). Values are normalized
 * (Kubernetes API defaults filled in, quantities as numbers, lists sorted) so that inputs during a
 * preview and live outputs after an update compare equal when they mean the same.
 */
import { createHash } from "node:crypto";
import type { EnvName } from "../environment";
import { shortImage } from "../image";
import { parseCpu, parseMemory } from "../quantity";
import { containsUnknown, isObject, isUnknown, UNKNOWN } from "../resources";
import { canonicalJson, type ParityEntry } from "./document";

function entry(value: unknown, display: string): ParityEntry {
  return { value: canonicalJson(value), display };
}

const UNKNOWN_ENTRY: ParityEntry = { unknown: true, display: "unknown until apply" };

/** How a migration file is compared: the hex SHA-256 of its content. */
export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

// Normalization (Kubernetes API defaults, pkg/apis/core/v1/defaults.go).

function normalizeProbe(probe: unknown): unknown {
  if (!isObject(probe)) return probe;
  const out: Record<string, unknown> = {
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
    initialDelaySeconds: 0,
    ...probe,
  };
  if (isObject(probe.httpGet)) out.httpGet = { scheme: "HTTP", path: "/", ...probe.httpGet };
  return out;
}

function normalizeResources(resources: unknown): unknown {
  if (!isObject(resources)) return {};
  const out: Record<string, unknown> = {};
  for (const part of ["requests", "limits"]) {
    const spec = resources[part];
    if (!isObject(spec)) continue;
    const norm: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(spec)) {
      const text = typeof v === "number" ? String(v) : v;
      if (typeof text !== "string") norm[k] = v;
      else if (k === "cpu") norm[k] = parseCpu(text) ?? text;
      else if (k === "memory" || k === "ephemeral-storage") norm[k] = parseMemory(text) ?? text;
      else norm[k] = text;
    }
    out[part] = norm;
  }
  return out;
}

function displayResources(resources: unknown): string {
  if (!isObject(resources)) return "none";
  const part = (p: string) => {
    const s = resources[p];
    if (!isObject(s)) return "–";
    return `${String(s.cpu ?? "–")}/${String(s.memory ?? "–")}`;
  };
  return `requests ${part("requests")}, limits ${part("limits")}`;
}

export interface ContainerShape {
  name: string;
  image: unknown;
  envNames: unknown;
  probes: unknown;
  securityContext: unknown;
  resources: unknown;
}

export interface WorkloadShape {
  /** Qualifier of item ids when there is more than one workload. */
  name: string;
  containers: ContainerShape[] | typeof UNKNOWN;
  podSecurityContext: unknown;
  replicas: unknown;
}

export interface ParityShape {
  environment: EnvName;
  workloads: WorkloadShape[];
  configMapKeys: string[] | typeof UNKNOWN | undefined;
  flags: Record<string, unknown> | typeof UNKNOWN | undefined;
  migrations: Record<string, string> | typeof UNKNOWN | undefined;
  hosts: string[] | typeof UNKNOWN | undefined;
  network: { ingress: string[]; egress: string[] } | typeof UNKNOWN | undefined;
}

function flagDisplay(v: unknown): string {
  return v === true ? "on" : v === false ? "off" : canonicalJson(v);
}

export function itemsFromShape(shape: ParityShape): Record<string, ParityEntry> {
  const items: Record<string, ParityEntry> = {};
  const set = (id: string, value: unknown, display: string) => {
    items[id] = containsUnknown(value) || value === UNKNOWN ? UNKNOWN_ENTRY : entry(value, display);
  };
  const many = shape.workloads.length > 1;
  for (const w of shape.workloads) {
    const q = (c: string) => (many ? `${w.name}/${c}` : c);
    if (w.containers === UNKNOWN) {
      for (const p of ["image", "envNames", "probes", "securityContext", "resources"])
        items[`${p}:*`] = UNKNOWN_ENTRY;
    } else {
      for (const c of w.containers) {
        const image = c.image;
        set(`image:${q(c.name)}`, image, typeof image === "string" ? shortImage(image) : "none");
        const names = Array.isArray(c.envNames) ? [...(c.envNames as string[])].sort() : c.envNames;
        set(
          `envNames:${q(c.name)}`,
          names,
          Array.isArray(names) ? `${names.length} names` : "none",
        );
        set(`probes:${q(c.name)}`, c.probes, describeProbes(c.probes));
        set(
          `securityContext:${q(c.name)}`,
          c.securityContext,
          describeSecurityContext(c.securityContext),
        );
        set(
          `resources:${q(c.name)}`,
          normalizeResources(c.resources),
          displayResources(c.resources),
        );
      }
    }
    set(
      `securityContext:${q("pod")}`,
      w.podSecurityContext,
      describeSecurityContext(w.podSecurityContext),
    );
    set(`replicas${many ? `:${w.name}` : ""}`, w.replicas, describeReplicas(w.replicas));
  }
  if (shape.configMapKeys === UNKNOWN) items.configMapKeys = UNKNOWN_ENTRY;
  else if (shape.configMapKeys !== undefined) {
    const keys = [...shape.configMapKeys].sort();
    set("configMapKeys", keys, keys.join(", ") || "none");
  }
  if (shape.flags === UNKNOWN) items["flag:*"] = UNKNOWN_ENTRY;
  else if (shape.flags !== undefined)
    for (const [f, v] of Object.entries(shape.flags)) set(`flag:${f}`, v, flagDisplay(v));
  if (shape.migrations === UNKNOWN) items["migration:*"] = UNKNOWN_ENTRY;
  else if (shape.migrations !== undefined) {
    for (const [file, hash] of Object.entries(shape.migrations))
      set(`migration:${file}`, hash, `sha256 ${hash.slice(0, 12)}`);
  }
  if (shape.hosts === UNKNOWN) items.hosts = UNKNOWN_ENTRY;
  else if (shape.hosts !== undefined)
    set("hosts", [...shape.hosts].sort(), [...shape.hosts].sort().join(", ") || "none");
  if (shape.network === UNKNOWN) items["network:*"] = UNKNOWN_ENTRY;
  else if (shape.network !== undefined) {
    set("network:ingress", shape.network.ingress, shape.network.ingress.join("; ") || "none");
    set("network:egress", shape.network.egress, shape.network.egress.join("; ") || "none");
  }
  return items;
}

function describeProbes(probes: unknown): string {
  if (!isObject(probes)) return "none";
  const parts = Object.entries(probes)
    .filter(([, p]) => isObject(p))
    .map(([k, p]) => {
      const probe = p as Record<string, unknown>;
      const how = isObject(probe.httpGet)
        ? `GET ${String(probe.httpGet.path)}`
        : isObject(probe.tcpSocket)
          ? "TCP"
          : isObject(probe.exec)
            ? "exec"
            : isObject(probe.grpc)
              ? "gRPC"
              : "?";
      return `${k.replace("Probe", "")} ${how}`;
    });
  return parts.join(", ") || "none";
}

function describeSecurityContext(sc: unknown): string {
  if (!isObject(sc)) return "none";
  const bits: string[] = [];
  if (sc.runAsNonRoot === true) bits.push("non-root");
  if (typeof sc.runAsUser === "number") bits.push(`uid ${sc.runAsUser}`);
  if (sc.readOnlyRootFilesystem === true) bits.push("read-only root");
  if (sc.allowPrivilegeEscalation === false) bits.push("no escalation");
  if (isObject(sc.seccompProfile)) bits.push(`seccomp ${String(sc.seccompProfile.type)}`);
  return bits.join(", ") || "set";
}

function describeReplicas(r: unknown): string {
  if (!isObject(r)) return String(r);
  return r.maxReplicas !== undefined
    ? `${String(r.replicas)} (autoscaled ${String(r.minReplicas)}–${String(r.maxReplicas)})`
    : String(r.replicas);
}

export function probesOf(c: Record<string, unknown>): unknown {
  const out: Record<string, unknown> = {};
  for (const k of ["readinessProbe", "livenessProbe", "startupProbe"]) {
    if (c[k] !== undefined) out[k] = isUnknown(c[k]) ? c[k] : normalizeProbe(c[k]);
  }
  return out;
}

export function envNamesOf(c: Record<string, unknown>): unknown {
  const env = c.env;
  const envFrom = c.envFrom;
  if (isUnknown(env) || isUnknown(envFrom)) return UNKNOWN;
  const names: unknown[] = [];
  if (Array.isArray(env)) for (const e of env) names.push(isObject(e) ? e.name : e);
  if (Array.isArray(envFrom)) {
    for (const e of envFrom) {
      if (!isObject(e)) continue;
      const from = isObject(e.configMapRef) ? "configMap" : isObject(e.secretRef) ? "secret" : "?";
      names.push(`envFrom ${from}${typeof e.prefix === "string" ? ` prefix ${e.prefix}` : ""}`);
    }
  }
  return names;
}
