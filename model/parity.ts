/**
 * What parity between two environments means, in one place: which items must be identical, which
 * may differ (and why), how each is read from Kubernetes resources, how the program computes its
 * own side (the `parityBaseline` stack output), and how two sides compare under the exceptions a
 * stack's config allows.
 *
 * The lower environment's side reaches the policy pack of the environment above as policy config
 * (CrossGuard cannot read another stack: pulumi/pulumi-policy#195). The policy recomputes the
 * current side from the resources it is shown, so the export of the current stack is never
 * trusted; only the lower one's is, and that one was itself checked when the lower stack ran.
 *
 * Values are normalized (Kubernetes API defaults filled in, quantities as numbers, lists sorted)
 * so that inputs during a preview and live outputs after an update compare equal when they mean
 * the same. No Pulumi resource is imported here; everything is plain data.
 */
import { createHash } from "node:crypto";
import type { EnvironmentConfig } from "./config";
import { environmentBelow, type EnvName, ENVIRONMENTS, isEnvName } from "./environment";
import { networkPolicies, NAMESPACE_NAME_LABEL, type NetworkPolicySpec } from "./network";
import { parseCpu, parseMemory } from "./quantity";
import {
  type FingerprintParams,
  fingerprintSecrets,
  newFingerprintParams,
  parseSecretFingerprints,
  sameFingerprintParams,
  type SecretFingerprints,
  secretValuesOf,
} from "./secrets";
import {
  containersOf,
  containsUnknown,
  isObject,
  isUnknown,
  kindOf,
  type KubeResource,
  labelsOf,
  metadataField,
  podSpecOf,
  UNKNOWN,
  type UnknownAt,
} from "./resources";
import {
  APP_CONTAINER,
  APP_ENV_NAMES,
  APP_PORT_NAME,
  APP_UID,
  containerSecurityContext,
  ENVIRONMENT_LABEL,
  httpProbes,
  podSecurityContext,
} from "./workload";

export const PARITY_BASELINE_KIND = "env-progression/parity-baseline";
export const PARITY_VERSION = 1;
/** The stack config key (in the program's namespace) that holds parity exceptions. */
export const PARITY_EXCEPTIONS_KEY = "parityExceptions";
export const COMPONENT_LABEL = "app.kubernetes.io/component";
/** The ConfigMap key the workload reads its feature flags from (components/workload.ts). */
export const FLAGS_FILE_KEY = "flags.json";
/** Components (label `app.kubernetes.io/component`) whose ConfigMaps parity reads. */
export const WORKLOAD_COMPONENT = "web";
export const MIGRATION_COMPONENT = "migration";

// What the program's components give the workload container. components/workload.ts writes the
// same; the agreement test (test/policies/parity-agreement.test.ts) fails the moment they drift.
// TODO(lead): export these from model/workload.ts and use them in components/workload.ts.
export { APP_CONTAINER, APP_ENV_NAMES, APP_PORT_NAME } from "./workload";

// ---------------------------------------------------------------------------------------------
// The items.

export type ItemKind = "identical" | "may-differ" | "must-differ";

interface ItemRule {
  /** Exact id (no colon) or the prefix of ids `prefix:<subject>`. */
  prefix: string;
  kind: ItemKind;
  /** Human words for the item, from the subject after the colon. */
  label: (subject: string) => string;
  /** Why it may differ (may-differ items). */
  reason?: string;
  /** How to make the two sides equal again (identical items). */
  fix?: string;
}

const RULES: readonly ItemRule[] = [
  {
    prefix: "image",
    kind: "identical",
    label: (c) => `the image of container ${c}`,
    fix: "deploy the image the environment below verified, pinned by the same digest",
  },
  {
    prefix: "flag",
    kind: "identical",
    label: (f) => `feature flag ${f}`,
    fix: "give the flag the same value in both stacks (featureFlags)",
  },
  {
    prefix: "envNames",
    kind: "identical",
    label: (c) => `the set of env var names of container ${c}`,
    fix: "give the container the same env vars in both environments (values may differ)",
  },
  {
    prefix: "configMapKeys",
    kind: "identical",
    label: () => "the set of config keys the workload mounts",
    fix: "mount the same ConfigMap keys in both environments (appSource and feature files)",
  },
  {
    prefix: "migration",
    kind: "identical",
    label: (f) => `migration file ${f}`,
    fix: "run the same migration files, with the same content, in order through every environment",
  },
  {
    prefix: "probes",
    kind: "identical",
    label: (c) => `the probes of container ${c}`,
    fix: "use the same readiness, liveness and startup probes in both environments",
  },
  {
    prefix: "securityContext",
    kind: "identical",
    label: (c) =>
      c === "pod" ? "the pod security context" : `the security context of container ${c}`,
    fix: "use the same security context in both environments",
  },
  {
    prefix: "replicas",
    kind: "may-differ",
    label: () => "replicas",
    reason: "scale is sized per environment (each column shows its own)",
  },
  {
    prefix: "resources",
    kind: "may-differ",
    label: (c) => `requests and limits of container ${c}`,
    reason: "requests and limits are sized for each environment's load",
  },
  {
    prefix: "hosts",
    kind: "may-differ",
    label: () => "ingress hosts",
    reason: "each environment serves its own host name",
  },
  {
    prefix: "network",
    kind: "may-differ",
    label: (d) => `network allowances (${d})`,
    reason:
      "network allowances are set per environment; traffic between environments is checked apart (the isolation matrix and the network policies)",
  },
  {
    prefix: "secretValues",
    kind: "must-differ",
    label: () => "secret values",
    reason: "each environment has its own secret values",
  },
];

function ruleFor(id: string): ItemRule | undefined {
  const colon = id.indexOf(":");
  const prefix = colon < 0 ? id : id.slice(0, colon);
  return RULES.find((r) => r.prefix === prefix);
}

function subjectOf(id: string): string {
  const colon = id.indexOf(":");
  return colon < 0 ? "" : id.slice(colon + 1);
}

export function itemKind(id: string): ItemKind | undefined {
  return ruleFor(id)?.kind;
}

/** Human words for an item id: `flag:checkout-v2` is "feature flag checkout-v2". */
export function itemLabel(id: string): string {
  const rule = ruleFor(id);
  return rule ? rule.label(subjectOf(id)) : id;
}

/** What to do when an identical item differs. */
export function itemFix(id: string): string {
  return ruleFor(id)?.fix ?? "make both environments the same";
}

/** Why a may-differ item may differ. */
export function itemReason(id: string): string | undefined {
  return ruleFor(id)?.reason;
}

/** Items may-differ or identical, in the order verify prints them. */
export function itemOrder(id: string): number {
  const rule = ruleFor(id);
  return rule ? RULES.indexOf(rule) : RULES.length;
}

// ---------------------------------------------------------------------------------------------
// The document.

export type ParityEntry = { value: string; display: string } | { unknown: true; display: string };

export interface ParityDocument {
  kind: typeof PARITY_BASELINE_KIND;
  version: typeof PARITY_VERSION;
  environment: EnvName;
  /** id -> entry. An id `prefix:*` with an unknown entry stands for every item of that prefix. */
  items: Record<string, ParityEntry>;
  /** Fingerprints of the environment's secret values (model/secrets.ts); never the values. */
  secrets?: SecretFingerprints;
}

export function isUnknownEntry(
  e: ParityEntry | undefined,
): e is { unknown: true; display: string } {
  return e !== undefined && "unknown" in e;
}

/** JSON with sorted keys: the same data always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function entry(value: unknown, display: string): ParityEntry {
  return { value: canonicalJson(value), display };
}

const UNKNOWN_ENTRY: ParityEntry = { unknown: true, display: "unknown until apply" };

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

// ---------------------------------------------------------------------------------------------
// Images.

export interface ImageRef {
  /** registry/path, as written (no tag, no digest). */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits `registry:5000/team/app:1.2@sha256:...` into repository, tag and digest. */
export function parseImageRef(image: string): ImageRef {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return {
    repository: rest,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

export function isDigestPinned(image: string): boolean {
  return /@sha256:[a-f0-9]{64}$/.test(image);
}

function shortImage(image: string): string {
  return image.replace(/@sha256:([a-f0-9]{12})[a-f0-9]{52}$/, "@sha256:$1…");
}

// ---------------------------------------------------------------------------------------------
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

function portText(ports: unknown): string {
  if (!Array.isArray(ports) || ports.length === 0) return "";
  const list = ports.map((p) => {
    if (!isObject(p)) return "?";
    const proto = typeof p.protocol === "string" ? p.protocol : "TCP";
    if (p.port === undefined) return `all ${proto}`;
    return `${proto} ${String(p.port)}${typeof p.endPort === "number" ? `-${p.endPort}` : ""}`;
  });
  return ` on ${list.join(", ")}`;
}

function selectorText(sel: unknown): string {
  return canonicalJson(sel ?? {});
}

function isEmptySelector(sel: unknown): boolean {
  if (!isObject(sel)) return false;
  const labels = isObject(sel.matchLabels) ? Object.keys(sel.matchLabels) : [];
  const exprs = Array.isArray(sel.matchExpressions) ? sel.matchExpressions : [];
  return labels.length === 0 && exprs.length === 0;
}

function peerText(peer: unknown): string {
  if (!isObject(peer)) return "?";
  if (isObject(peer.ipBlock)) {
    const except =
      Array.isArray(peer.ipBlock.except) && peer.ipBlock.except.length > 0
        ? ` except ${peer.ipBlock.except.join(", ")}`
        : "";
    return `cidr ${String(peer.ipBlock.cidr)}${except}`;
  }
  const pods = peer.podSelector;
  const podsText =
    pods === undefined || isEmptySelector(pods) ? undefined : `pods ${selectorText(pods)}`;
  const ns = peer.namespaceSelector;
  if (ns === undefined)
    return podsText ? `${podsText} of the same namespace` : "the same namespace";
  let nsText: string;
  if (isEmptySelector(ns)) nsText = "all namespaces";
  else if (
    isObject(ns) &&
    isObject(ns.matchLabels) &&
    Object.keys(ns.matchLabels).length === 1 &&
    typeof ns.matchLabels[NAMESPACE_NAME_LABEL] === "string" &&
    !Array.isArray(ns.matchExpressions)
  ) {
    nsText = `namespace ${ns.matchLabels[NAMESPACE_NAME_LABEL]}`;
  } else nsText = `namespaces ${selectorText(ns)}`;
  return podsText ? `${podsText} in ${nsText}` : nsText;
}

/** The allowances of a set of NetworkPolicies, per direction, in words: "namespace kube-system on UDP 53". */
export function describeAllowances(specs: readonly unknown[]): {
  ingress: string[];
  egress: string[];
} {
  const out = { ingress: new Set<string>(), egress: new Set<string>() };
  for (const spec of specs) {
    if (!isObject(spec)) continue;
    const types = Array.isArray(spec.policyTypes) ? spec.policyTypes : undefined;
    for (const [dir, type, peerKey] of [
      ["ingress", "Ingress", "from"],
      ["egress", "Egress", "to"],
    ] as const) {
      if (types !== undefined && !types.includes(type)) continue;
      const rules = spec[dir];
      if (!Array.isArray(rules)) continue;
      for (const rule of rules) {
        if (!isObject(rule)) continue;
        const peers = rule[peerKey];
        const ports = portText(rule.ports);
        if (!Array.isArray(peers) || peers.length === 0) out[dir].add(`anywhere${ports}`);
        else for (const p of peers) out[dir].add(`${peerText(p)}${ports}`);
      }
    }
  }
  return { ingress: [...out.ingress].sort(), egress: [...out.egress].sort() };
}

// ---------------------------------------------------------------------------------------------
// The shape both sides are reduced to before items are made: one builder, two sources.

interface ContainerShape {
  name: string;
  image: unknown;
  envNames: unknown;
  probes: unknown;
  securityContext: unknown;
  resources: unknown;
}

interface WorkloadShape {
  /** Qualifier of item ids when there is more than one workload. */
  name: string;
  containers: ContainerShape[] | typeof UNKNOWN;
  podSecurityContext: unknown;
  replicas: unknown;
}

interface ParityShape {
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

function itemsFromShape(shape: ParityShape): Record<string, ParityEntry> {
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

function probesOf(c: Record<string, unknown>): unknown {
  const out: Record<string, unknown> = {};
  for (const k of ["readinessProbe", "livenessProbe", "startupProbe"]) {
    if (c[k] !== undefined) out[k] = isUnknown(c[k]) ? c[k] : normalizeProbe(c[k]);
  }
  return out;
}

function envNamesOf(c: Record<string, unknown>): unknown {
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

// ---------------------------------------------------------------------------------------------
// The current side, from resources.

export interface ResourceParity {
  document: ParityDocument;
  /** id -> URN (or name) of the resource the item was read from, for violations to point at. */
  sources: Record<string, string>;
  /** Where values unknown during preview kept an item from being read. */
  unknown: UnknownAt[];
}

function environmentOfResources(resources: readonly KubeResource[]): EnvName | undefined {
  let found: EnvName | undefined;
  for (const r of resources) {
    if (kindOf(r.type) !== "Namespace") continue;
    const env = labelsOf(r.props)[ENVIRONMENT_LABEL];
    if (
      env !== undefined &&
      isEnvName(env) &&
      (found === undefined || ENVIRONMENTS.indexOf(env) > ENVIRONMENTS.indexOf(found))
    )
      found = env;
  }
  return found;
}

/**
 * Reads the parity side of one stack from its resources, as the policy sees them (secrets
 * unwrapped, unknown values as the engine's sentinels). With `fingerprint`, also fingerprints
 * every Secret value with those parameters (the lower baseline's, to compare with it).
 */
export function parityFromResources(
  resources: readonly KubeResource[],
  opts: { environment?: EnvName; fingerprint?: FingerprintParams } = {},
): ResourceParity {
  const environment = opts.environment ?? environmentOfResources(resources) ?? "prod";
  const sources: Record<string, string> = {};
  const unknown: UnknownAt[] = [];
  const where = (r: KubeResource) => r.urn ?? r.name;
  const note = (r: KubeResource, paths: string[][]) =>
    paths.forEach((path) =>
      unknown.push({ resource: r.name, ...(r.urn ? { urn: r.urn } : {}), path }),
    );

  const deployments = resources.filter((r) => kindOf(r.type) === "Deployment");
  const hpas = resources.filter((r) => kindOf(r.type) === "HorizontalPodAutoscaler");
  const workloadComponents = new Set<string>();
  const workloads: WorkloadShape[] = [];
  const workloadSource: string[] = [];
  for (const d of deployments) {
    const dname = metadataField(d.props, "name");
    const name = typeof dname === "string" ? dname : d.name;
    const pod = podSpecOf(d);
    const spec = isObject(d.props.spec) ? d.props.spec : {};
    let replicas: unknown = spec.replicas === undefined ? 1 : spec.replicas;
    const hpa = hpas.find((h) => {
      const ref = isObject(h.props.spec) ? h.props.spec.scaleTargetRef : undefined;
      return isObject(ref) && ref.kind === "Deployment" && ref.name === name;
    });
    if (hpa && isObject(hpa.props.spec)) {
      replicas = {
        replicas,
        minReplicas: hpa.props.spec.minReplicas ?? 1,
        maxReplicas: hpa.props.spec.maxReplicas,
      };
    } else replicas = { replicas };
    if (pod?.template) {
      const component = labelsOf(pod.template)[COMPONENT_LABEL];
      if (component !== undefined) workloadComponents.add(component);
    }
    const dLabels = labelsOf(d.props)[COMPONENT_LABEL];
    if (dLabels !== undefined) workloadComponents.add(dLabels);
    if (pod === undefined || pod.spec === UNKNOWN) {
      if (pod) note(d, [pod.path]);
      workloads.push({ name, containers: UNKNOWN, podSecurityContext: UNKNOWN, replicas });
      workloadSource.push(where(d));
      continue;
    }
    const paths: string[][] = [];
    const containers = containersOf(pod.spec, pod.path, paths)
      .filter((c) => c.group === "containers")
      .map((c) => ({
        name: c.name,
        image: c.container.image,
        envNames: envNamesOf(c.container),
        probes: probesOf(c.container),
        securityContext: c.container.securityContext ?? {},
        resources: c.container.resources ?? {},
      }));
    note(d, paths);
    workloads.push({
      name,
      containers,
      podSecurityContext: pod.spec.securityContext ?? {},
      replicas,
    });
    workloadSource.push(where(d));
  }

  const configMaps = resources.filter((r) => kindOf(r.type) === "ConfigMap");
  let configMapKeys: string[] | typeof UNKNOWN | undefined;
  let flags: Record<string, unknown> | typeof UNKNOWN | undefined;
  let migrations: Record<string, string> | typeof UNKNOWN | undefined;
  for (const cm of configMaps) {
    const component = labelsOf(cm.props)[COMPONENT_LABEL];
    const data = cm.props.data;
    if (component === MIGRATION_COMPONENT) {
      if (isUnknown(data) || migrations === UNKNOWN) {
        note(cm, [["data"]]);
        migrations = UNKNOWN;
        continue;
      }
      migrations ??= {};
      for (const [k, v] of Object.entries(isObject(data) ? data : {})) {
        if (isUnknown(v)) {
          note(cm, [["data", k]]);
          migrations = UNKNOWN;
          break;
        }
        if (typeof v === "string") {
          migrations[k] = sha256(v);
          sources[`migration:${k}`] = where(cm);
        }
      }
      continue;
    }
    if (component !== undefined && workloadComponents.has(component)) {
      if (isUnknown(data)) {
        note(cm, [["data"]]);
        configMapKeys = UNKNOWN;
      } else if (configMapKeys !== UNKNOWN) {
        configMapKeys = [
          ...new Set([...(configMapKeys ?? []), ...Object.keys(isObject(data) ? data : {})]),
        ];
        sources.configMapKeys = where(cm);
      }
    }
    if (isObject(data) && FLAGS_FILE_KEY in data) {
      const text = data[FLAGS_FILE_KEY];
      if (isUnknown(text)) {
        note(cm, [["data", FLAGS_FILE_KEY]]);
        flags = UNKNOWN;
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(text));
      } catch {
        parsed = undefined;
      }
      if (flags !== UNKNOWN) {
        flags ??= {};
        for (const [f, v] of Object.entries(
          isObject(parsed) ? parsed : { "(unreadable flags.json)": null },
        )) {
          flags[f] = v;
          sources[`flag:${f}`] = where(cm);
        }
      }
    }
  }

  let hosts: string[] | typeof UNKNOWN | undefined;
  for (const ing of resources.filter((r) => kindOf(r.type) === "Ingress")) {
    const rules = isObject(ing.props.spec) ? ing.props.spec.rules : undefined;
    if (
      isUnknown(rules) ||
      (Array.isArray(rules) &&
        rules.some((r) => isUnknown(r) || (isObject(r) && isUnknown(r.host))))
    ) {
      note(ing, [["spec", "rules"]]);
      hosts = UNKNOWN;
      continue;
    }
    if (hosts === UNKNOWN) continue;
    hosts ??= [];
    for (const r of Array.isArray(rules) ? rules : [])
      if (isObject(r) && typeof r.host === "string") hosts.push(r.host);
    sources.hosts = where(ing);
  }

  let network: ParityShape["network"];
  const netpols = resources.filter((r) => kindOf(r.type) === "NetworkPolicy");
  if (netpols.some((p) => containsUnknown(p.props.spec))) {
    netpols.filter((p) => containsUnknown(p.props.spec)).forEach((p) => note(p, [["spec"]]));
    network = UNKNOWN;
  } else if (netpols.length > 0) network = describeAllowances(netpols.map((p) => p.props.spec));

  const shape: ParityShape = {
    environment,
    workloads,
    configMapKeys,
    flags,
    migrations,
    hosts,
    network,
  };
  const items = itemsFromShape(shape);
  for (const id of Object.keys(items)) {
    if (sources[id] === undefined && workloadSource.length > 0)
      sources[id] = workloadSource[0] as string;
  }

  const document: ParityDocument = {
    kind: PARITY_BASELINE_KIND,
    version: PARITY_VERSION,
    environment,
    items,
  };
  if (opts.fingerprint) {
    const values: { source: string; value: string }[] = [];
    for (const r of resources) {
      const paths: string[][] = [];
      const secretName = metadataField(r.props, "name");
      for (const v of secretValuesOf(r, paths)) {
        values.push({
          source: `Secret ${typeof secretName === "string" ? secretName : r.name}/${v.key}`,
          value: v.value,
        });
      }
      note(r, paths);
    }
    document.secrets = fingerprintSecrets(values, opts.fingerprint);
  }
  return { document, sources, unknown };
}

// ---------------------------------------------------------------------------------------------
// The program's side: the `parityBaseline` stack output.

export interface BaselineInput {
  config: EnvironmentConfig;
  /** The migration ConfigMap's data: `readMigrations(dir, runner)` of components/migration.ts. */
  migrations: Record<string, string>;
  /**
   * The stack's secret values in plaintext (call inside `pulumi.all([...]).apply`), keyed by the
   * config key: `{ dbPassword, smokeToken }`. Only their fingerprints leave this function.
   */
  secrets: Record<string, string | undefined>;
  /** Fingerprint parameters; fresh (a random salt) by default. Tests pass fixed ones. */
  fingerprint?: FingerprintParams;
}

/**
 * The parity side of an environment as the program computes it from its config, without
 * resources: exported as the stack output `parityBaseline`, it becomes the policy config of the
 * environment above. Agrees with `parityFromResources` over the resources the program registers
 * (tested for each real stack).
 */
export function parityBaseline(input: BaselineInput): ParityDocument {
  const c = input.config;
  const container: ContainerShape = {
    name: APP_CONTAINER,
    image: c.image,
    envNames: APP_ENV_NAMES,
    probes: probesOf(httpProbes(APP_PORT_NAME)),
    securityContext: containerSecurityContext(APP_UID),
    resources: c.resources,
  };
  const replicas =
    c.maxReplicas !== undefined
      ? { replicas: c.replicas, minReplicas: Math.max(1, c.replicas), maxReplicas: c.maxReplicas }
      : { replicas: c.replicas };
  const migrations: Record<string, string> = {};
  for (const [file, content] of Object.entries(input.migrations))
    migrations[file] = sha256(content);
  const shape: ParityShape = {
    environment: c.env,
    workloads: [
      {
        name: c.appName,
        containers: [container],
        podSecurityContext: podSecurityContext(APP_UID),
        replicas,
      },
    ],
    configMapKeys: [FLAGS_FILE_KEY, ...(c.appSource === "reference" ? ["server.js"] : [])],
    flags: c.featureFlags,
    migrations,
    hosts: [c.host],
    network: describeAllowances(
      networkPolicies({
        namespace: c.namespace,
        ingressNamespaces: c.ingressNamespaces,
        egressCidrs: c.egressCidrs,
      }).map((p): NetworkPolicySpec => p.spec),
    ),
  };
  const values = Object.entries(input.secrets)
    .filter((e): e is [string, string] => typeof e[1] === "string")
    .map(([key, value]) => ({ source: `config ${key}`, value }));
  return {
    kind: PARITY_BASELINE_KIND,
    version: PARITY_VERSION,
    environment: c.env,
    items: itemsFromShape(shape),
    secrets: fingerprintSecrets(values, input.fingerprint ?? newFingerprintParams()),
  };
}

/**
 * Checks a parity document that came from outside (policy config, a stack output). Problems name
 * the field and what is expected, never a value.
 */
export function parseParityDocument(
  raw: unknown,
  where = "baseline",
): { document?: ParityDocument; errors: string[] } {
  const errors: string[] = [];
  if (!isObject(raw))
    return {
      errors: [`${where} is not a map; expected the parityBaseline output of the stack below`],
    };
  if (raw.kind !== PARITY_BASELINE_KIND)
    errors.push(`${where}.kind is not "${PARITY_BASELINE_KIND}"`);
  if (raw.version !== PARITY_VERSION)
    errors.push(
      `${where}.version is not ${PARITY_VERSION}; produce the baseline with this version of the program`,
    );
  if (typeof raw.environment !== "string" || !isEnvName(raw.environment))
    errors.push(`${where}.environment is not one of ${ENVIRONMENTS.join(", ")}`);
  if (!isObject(raw.items)) errors.push(`${where}.items is not a map of parity items`);
  else {
    for (const [id, e] of Object.entries(raw.items)) {
      const ok =
        isObject(e) &&
        typeof e.display === "string" &&
        (typeof e.value === "string" || e.unknown === true);
      if (!ok) errors.push(`${where}.items["${id}"] is not {value, display}`);
      else if (ruleFor(id) === undefined)
        errors.push(`${where}.items["${id}"] is not a parity item this version knows`);
    }
  }
  if (raw.secrets !== undefined)
    errors.push(...parseSecretFingerprints(raw.secrets, `${where}.secrets`).errors);
  return errors.length > 0 ? { errors } : { document: raw as unknown as ParityDocument, errors };
}

/** Problem with using `baseline` for a stack of environment `current`; undefined when fine. */
export function baselineEnvironmentProblem(
  baseline: ParityDocument,
  current: EnvName,
): string | undefined {
  const below = environmentBelow(current);
  if (below === undefined)
    return `${current} is the lowest environment and has no baseline to compare with`;
  if (baseline.environment !== below) {
    return `the configured baseline is ${baseline.environment}'s, but ${current} is compared with ${below}`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Exceptions.

export interface ParityException {
  /** An identical item id (`flag:checkout-v2`), or a prefix with `*` (`flag:*`). */
  item: string;
  reason: string;
  /** The last day the exception applies, YYYY-MM-DD (UTC). */
  expires: string;
}

/** Today in UTC, YYYY-MM-DD. */
export function todayUtc(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

function isRealDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

export const MIN_REASON_LENGTH = 10;

/**
 * Reads `env-progression:parityExceptions`: a list of `{item, reason, expires}`, as YAML in the
 * stack file (the engine passes it as JSON text) or already parsed. Every problem at once, one
 * line each, naming the entry and the field, never echoing a value. model/config.ts can reuse this.
 */
export function parseParityExceptions(
  raw: unknown,
  where = `env-progression:${PARITY_EXCEPTIONS_KEY}`,
): { exceptions: ParityException[]; errors: string[] } {
  if (raw === undefined || raw === null) return { exceptions: [], errors: [] };
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      return {
        exceptions: [],
        errors: [`${where} is not a list; expected a YAML list of {item, reason, expires}`],
      };
    }
  }
  if (!Array.isArray(value))
    return {
      exceptions: [],
      errors: [`${where} is not a list; expected a YAML list of {item, reason, expires}`],
    };
  const errors: string[] = [];
  const exceptions: ParityException[] = [];
  const seen = new Set<string>();
  value.forEach((e, i) => {
    const at = `${where}[${i}]`;
    if (!isObject(e))
      return void errors.push(`${at} is not a map; expected {item, reason, expires}`);
    const before = errors.length;
    for (const k of Object.keys(e)) {
      if (!["item", "reason", "expires"].includes(k))
        errors.push(`${at}.${k} is not a known field; expected only item, reason and expires`);
    }
    const item = e.item;
    if (typeof item !== "string" || item === "")
      errors.push(
        `${at}.item is missing; expected a parity item such as flag:checkout-v2 or image:app`,
      );
    else {
      const rule = ruleFor(item);
      if (rule === undefined)
        errors.push(
          `${at}.item is not a parity item; expected one of ${RULES.filter(
            (r) => r.kind === "identical",
          )
            .map((r) => r.prefix)
            .join(", ")} (with :<name>)`,
        );
      else if (rule.kind === "may-differ")
        errors.push(`${at}.item may differ between environments already and needs no exception`);
      else if (rule.kind === "must-differ")
        errors.push(
          `${at}.item cannot be excepted: a lower environment's secret value is never allowed`,
        );
      else if (seen.has(item))
        errors.push(`${at}.item is listed twice; expected one exception per item`);
      seen.add(String(item));
    }
    if (typeof e.reason !== "string" || e.reason.trim().length < MIN_REASON_LENGTH) {
      errors.push(
        `${at}.reason is missing or too short; expected at least ${MIN_REASON_LENGTH} characters saying why the difference is acceptable`,
      );
    }
    if (typeof e.expires !== "string" || !isRealDate(e.expires))
      errors.push(`${at}.expires is not a real date; expected the last day it applies, YYYY-MM-DD`);
    if (errors.length === before)
      exceptions.push({
        item: item as string,
        reason: (e.reason as string).trim(),
        expires: e.expires as string,
      });
  });
  return { exceptions, errors };
}

function exceptionFor(
  id: string,
  exceptions: readonly ParityException[],
): ParityException | undefined {
  return (
    exceptions.find((e) => e.item === id) ??
    exceptions.find((e) => e.item.endsWith("*") && id.startsWith(e.item.slice(0, -1)))
  );
}

// ---------------------------------------------------------------------------------------------
// Comparison.

export type ParityStatus = "equal" | "allowed" | "forbidden" | "unknown";

export interface ParityComparison {
  id: string;
  label: string;
  kind: ItemKind;
  status: ParityStatus;
  /** Why allowed or forbidden, in words; never a value. */
  reason?: string;
  lower?: ParityEntry;
  current?: ParityEntry;
  /** The exception that made it allowed, or that expired. */
  exception?: ParityException & { expired: boolean };
}

export interface ParityResult {
  lower: EnvName;
  current: EnvName;
  items: ParityComparison[];
  /** Exceptions that matched no forbidden difference. */
  unusedExceptions: ParityException[];
}

function lookup(doc: ParityDocument, id: string): ParityEntry | undefined {
  const direct = doc.items[id];
  if (direct !== undefined) return direct;
  const colon = id.indexOf(":");
  return colon < 0 ? undefined : doc.items[`${id.slice(0, colon)}:*`];
}

function imageComparison(
  lower: EnvName,
  current: EnvName,
  l: string,
  c: string,
): { status: ParityStatus; reason: string } {
  const li = parseImageRef(l);
  const ci = parseImageRef(c);
  if (ci.digest === undefined) {
    return {
      status: "forbidden",
      reason: `${current} does not pin the image by digest, so it cannot be shown to be ${lower}'s`,
    };
  }
  if (li.repository !== ci.repository)
    return {
      status: "forbidden",
      reason: `${current} runs an image from another repository than ${lower}`,
    };
  if (li.digest !== undefined)
    return { status: "forbidden", reason: `${current} runs another digest than ${lower}` };
  if (lower !== "dev")
    return {
      status: "forbidden",
      reason: `${lower} does not pin the image by digest, so ${current} cannot prove it runs the same`,
    };
  if (li.tag !== undefined && ci.tag !== undefined && li.tag !== ci.tag) {
    return { status: "forbidden", reason: `${current} runs another tag than dev` };
  }
  return {
    status: "allowed",
    reason: `dev may use a tag; the repository${ci.tag !== undefined ? " and tag" : ""} match and ${current} pins the digest`,
  };
}

/**
 * Compares the current side with the lower one, item by item. Unknown values are never a
 * difference (they are compared at `pulumi up`). Exceptions apply to identical items until the end
 * of their expiry day (UTC); an expired one no longer does, and says so.
 */
export function compareParity(
  lower: ParityDocument,
  current: ParityDocument,
  exceptions: readonly ParityException[] = [],
  today: string = todayUtc(),
): ParityResult {
  const ids = new Set(
    [...Object.keys(lower.items), ...Object.keys(current.items)].filter((id) => !id.endsWith(":*")),
  );
  const used = new Set<ParityException>();
  const items: ParityComparison[] = [];
  for (const id of [...ids].sort((a, b) => itemOrder(a) - itemOrder(b) || a.localeCompare(b))) {
    const rule = ruleFor(id);
    const kind = rule?.kind ?? "identical";
    const l = lookup(lower, id);
    const c = lookup(current, id);
    const base: ParityComparison = {
      id,
      label: itemLabel(id),
      kind,
      status: "equal",
      ...(l ? { lower: l } : {}),
      ...(c ? { current: c } : {}),
    };
    if (isUnknownEntry(l) || isUnknownEntry(c)) {
      items.push({
        ...base,
        status: "unknown",
        reason: "unknown until apply; compared at pulumi up",
      });
      continue;
    }
    if (l !== undefined && c !== undefined && l.value === c.value) {
      items.push(base);
      continue;
    }
    if (kind === "may-differ") {
      items.push({ ...base, status: "allowed", reason: rule?.reason ?? "may differ" });
      continue;
    }
    let verdict: { status: ParityStatus; reason: string };
    if (id.startsWith("image:") && l !== undefined && c !== undefined) {
      verdict = imageComparison(
        lower.environment,
        current.environment,
        JSON.parse(l.value) as string,
        JSON.parse(c.value) as string,
      );
    } else if (l === undefined)
      verdict = {
        status: "forbidden",
        reason: `${current.environment} has it and ${lower.environment} does not`,
      };
    else if (c === undefined)
      verdict = {
        status: "forbidden",
        reason: `${lower.environment} has it and ${current.environment} does not`,
      };
    else
      verdict = {
        status: "forbidden",
        reason: `it differs between ${lower.environment} and ${current.environment}`,
      };
    if (verdict.status === "forbidden") {
      const ex = exceptionFor(id, exceptions);
      if (ex !== undefined) {
        used.add(ex);
        const expired = today > ex.expires;
        if (!expired) {
          items.push({
            ...base,
            status: "allowed",
            reason: `exception until ${ex.expires}: ${ex.reason}`,
            exception: { ...ex, expired },
          });
          continue;
        }
        items.push({
          ...base,
          status: "forbidden",
          reason: `${verdict.reason}; its exception expired after ${ex.expires}`,
          exception: { ...ex, expired },
        });
        continue;
      }
    }
    items.push({ ...base, ...verdict });
  }
  if (lower.secrets !== undefined && current.secrets !== undefined)
    items.push(compareSecrets(lower, current));
  return {
    lower: lower.environment,
    current: current.environment,
    items,
    unusedExceptions: exceptions.filter((e) => !used.has(e)),
  };
}

/** The secretValues row: forbidden when a current value has a lower fingerprint (same parameters). */
export function compareSecrets(lower: ParityDocument, current: ParityDocument): ParityComparison {
  const base = {
    id: "secretValues",
    label: itemLabel("secretValues"),
    kind: "must-differ" as const,
  };
  const ls = lower.secrets as SecretFingerprints;
  const cs = current.secrets as SecretFingerprints;
  const count = (s: SecretFingerprints) => `${s.values.length} fingerprinted`;
  const lowerEntry: ParityEntry = { value: "fingerprints", display: count(ls) };
  const currentEntry: ParityEntry = { value: "fingerprints", display: count(cs) };
  if (!sameFingerprintParams(ls.params, cs.params)) {
    return {
      ...base,
      status: "unknown",
      reason: "fingerprinted with other parameters; not comparable",
      lower: lowerEntry,
      current: currentEntry,
    };
  }
  const lowerSet = new Map(ls.values.map((v) => [v.fingerprint, v.source]));
  const reused = cs.values.filter((v) => lowerSet.has(v.fingerprint));
  if (reused.length === 0) {
    return {
      ...base,
      status: "allowed",
      reason: itemReason("secretValues") as string,
      lower: lowerEntry,
      current: currentEntry,
    };
  }
  const what = reused
    .map((v) => `${v.source} reuses ${lower.environment}'s ${lowerSet.get(v.fingerprint)}`)
    .join("; ");
  return { ...base, status: "forbidden", reason: what, lower: lowerEntry, current: currentEntry };
}
