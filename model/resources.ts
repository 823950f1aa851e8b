/**
 * Kubernetes resources as a CrossGuard policy sees them: plain, Kubernetes-shaped objects whose
 * values unknown during preview are still the engine's sentinel strings. Finding the pod spec and
 * the containers of any workload, and telling what is not known yet. Pure; read by the secret
 * model, the parity model and the policies.
 */
// ---------------------------------------------------------------------------------------------
// Values unknown during preview.

/**
 * The sentinels the Pulumi engine sends for a value it cannot know yet (a preview, an output of a
 * resource not created yet): `resource/plugin.UnknownStringValue` is the one the Go engine marshals;
 * @pulumi/policy knows these seven (its proxy.ts).
 */
export const UNKNOWN_SENTINELS: ReadonlySet<string> = new Set([
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
  "030794c1-ac77-496b-92df-f27374a8bd58",
  "e48ece36-62e2-4504-bad9-02848725956a",
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
]);

/** True for a value the engine does not know yet. */
export function isUnknown(value: unknown): boolean {
  return typeof value === "string" && UNKNOWN_SENTINELS.has(value);
}

/** True when the value, or anything inside it, is unknown. */
export function containsUnknown(value: unknown): boolean {
  if (isUnknown(value)) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (isObject(value)) return Object.values(value).some(containsUnknown);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Resource shapes.

/** A resource as a policy sees it: its type token, Pulumi name, URN and (input or output) properties. */
export interface KubeResource {
  type: string;
  name: string;
  urn?: string;
  props: Record<string, unknown>;
}

/** Where a value unknown during preview stopped a check: the property path inside one resource. */
export interface UnknownAt {
  resource: string;
  urn?: string;
  path: string[];
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The Kubernetes kind of a `kubernetes:<group>/<version>:<Kind>` type token, else undefined. */
export function kindOf(type: string): string | undefined {
  if (!type.startsWith("kubernetes:")) return undefined;
  const kind = type.slice(type.lastIndexOf(":") + 1);
  return kind === "" ? undefined : kind;
}

/** metadata.labels, without unknown entries. */
export function labelsOf(props: Record<string, unknown>): Record<string, string> {
  const metadata = props.metadata;
  if (!isObject(metadata) || !isObject(metadata.labels)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata.labels))
    if (typeof v === "string" && !isUnknown(v)) out[k] = v;
  return out;
}

/** metadata.name / metadata.namespace as known strings; undefined when missing, "unknown" when unknown. */
export function metadataField(
  props: Record<string, unknown>,
  field: "name" | "namespace",
): string | undefined | typeof UNKNOWN {
  const metadata = props.metadata;
  if (isUnknown(metadata)) return UNKNOWN;
  if (!isObject(metadata)) return undefined;
  const v = metadata[field];
  if (isUnknown(v)) return UNKNOWN;
  return typeof v === "string" ? v : undefined;
}

/** A marker for "unknown during preview" in results computed from properties. */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");

const POD_TEMPLATE_KINDS = new Set([
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
  "Job",
]);

/** The pod spec a resource runs (a Pod's spec, a workload's template, a CronJob's job template). */
export interface PodSpecAt {
  /** The pod spec, or UNKNOWN when the engine does not know it yet. */
  spec: Record<string, unknown> | typeof UNKNOWN;
  /** The pod template (the object whose `metadata` has the pod's labels and annotations), or the Pod itself. */
  template: Record<string, unknown> | undefined;
  /** Property path of the spec inside the resource. */
  path: string[];
}

export function podSpecOf(r: KubeResource): PodSpecAt | undefined {
  const kind = kindOf(r.type);
  if (kind === undefined) return undefined;
  let path: string[];
  if (kind === "Pod") path = ["spec"];
  else if (POD_TEMPLATE_KINDS.has(kind)) path = ["spec", "template", "spec"];
  else if (kind === "CronJob") path = ["spec", "jobTemplate", "spec", "template", "spec"];
  else return undefined;
  let node: unknown = r.props;
  let template: Record<string, unknown> | undefined;
  for (let i = 0; i < path.length; i++) {
    if (isUnknown(node)) return { spec: UNKNOWN, template, path: path.slice(0, i) };
    if (!isObject(node)) return undefined;
    if (i === path.length - 1) template = node;
    node = node[path[i] as string];
  }
  if (isUnknown(node)) return { spec: UNKNOWN, template, path };
  return isObject(node) ? { spec: node, template, path } : undefined;
}

export type ContainerGroup = "containers" | "initContainers" | "ephemeralContainers";
export const CONTAINER_GROUPS: readonly ContainerGroup[] = [
  "containers",
  "initContainers",
  "ephemeralContainers",
];

export interface ContainerAt {
  group: ContainerGroup;
  index: number;
  /** The container's name, or `<group>[index]` when it has none (or it is unknown). */
  name: string;
  container: Record<string, unknown>;
  path: string[];
}

/**
 * Every container of a pod spec, of every group. A group that is unknown as a whole is reported
 * through `unknown` and skipped; so is a container entry that is unknown.
 */
export function containersOf(
  spec: Record<string, unknown>,
  basePath: string[],
  unknown?: string[][],
): ContainerAt[] {
  const out: ContainerAt[] = [];
  for (const group of CONTAINER_GROUPS) {
    const list = spec[group];
    if (isUnknown(list)) {
      unknown?.push([...basePath, group]);
      continue;
    }
    if (!Array.isArray(list)) continue;
    list.forEach((c, index) => {
      const path = [...basePath, group, String(index)];
      if (isUnknown(c)) {
        unknown?.push(path);
        return;
      }
      if (!isObject(c)) return;
      const name = typeof c.name === "string" && !isUnknown(c.name) ? c.name : `${group}[${index}]`;
      out.push({ group, index, name, container: c, path });
    });
  }
  return out;
}
