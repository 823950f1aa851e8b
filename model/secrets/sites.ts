/**
 * Where a secret can hide in a resource's plain text (env values, command lines, annotations,
 * ConfigMap data, another provider's inputs), and why a place looks like it holds one. Pure
 * functions over plain, Kubernetes-shaped objects as a CrossGuard policy sees them (secrets
 * unwrapped, pulumi/pulumi-policy#241; values unknown during preview still the engine's sentinel
 * strings). Nothing here returns or formats a secret value: only names and places.
 */
import {
  containersOf,
  isObject,
  isUnknown,
  kindOf,
  type KubeResource,
  podSpecOf,
  UNKNOWN,
} from "../resources";
import {
  hasCredentialUrl,
  isReference,
  isSensitiveName,
  sensitiveAssignments,
  type TextKind,
  textKindOfKey,
} from "./sensitive";

/** A place in a resource that holds plain text: never meant for a secret. */
export interface PlainSite {
  kind: "env" | "configMap" | "annotation" | "command" | "input";
  /** Human words for where: `env DB_URL of container app`, `ConfigMap key app.env`. Never a value. */
  where: string;
  /** The variable, key or annotation name, when the place has one. */
  name?: string;
  value: string;
  /** How the value reads: a command line, a code file, or config text. */
  text: TextKind;
  path: string[];
}

function annotationSites(
  metadata: unknown,
  path: string[],
  label: string,
  unknown: string[][],
): PlainSite[] {
  if (!isObject(metadata)) return [];
  const annotations = metadata.annotations;
  if (isUnknown(annotations)) {
    unknown.push([...path, "annotations"]);
    return [];
  }
  if (!isObject(annotations)) return [];
  const out: PlainSite[] = [];
  for (const [k, v] of Object.entries(annotations)) {
    if (isUnknown(v)) unknown.push([...path, "annotations", k]);
    else if (typeof v === "string") {
      out.push({
        kind: "annotation",
        where: `annotation ${k}${label}`,
        name: k,
        value: v,
        text: "config",
        path: [...path, "annotations", k],
      });
    }
  }
  return out;
}

function commandText(list: unknown): string | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.filter((s): s is string => typeof s === "string" && !isUnknown(s)).join(" ");
}

/**
 * Every place of a resource that holds plain text a secret must not be copied into: env var
 * values, command lines (command, args, exec probes and hooks), annotations, ConfigMap data.
 * Unknown values are skipped and their paths pushed to `unknown`.
 */
export function plainTextSites(r: KubeResource, unknown: string[][] = []): PlainSite[] {
  const out: PlainSite[] = [];
  out.push(...annotationSites(r.props.metadata, ["metadata"], "", unknown));
  const kind = kindOf(r.type);
  if (kind === "ConfigMap") {
    const data = r.props.data;
    if (isUnknown(data)) unknown.push(["data"]);
    else if (isObject(data)) {
      for (const [k, v] of Object.entries(data)) {
        if (isUnknown(v)) unknown.push(["data", k]);
        else if (typeof v === "string")
          out.push({
            kind: "configMap",
            where: `ConfigMap key ${k}`,
            name: k,
            value: v,
            text: textKindOfKey(k),
            path: ["data", k],
          });
      }
    }
  }
  const pod = podSpecOf(r);
  if (pod === undefined) return out;
  if (pod.template !== undefined && kind !== "Pod") {
    out.push(
      ...annotationSites(
        pod.template.metadata,
        [...pod.path.slice(0, -1), "metadata"],
        " of the pod template",
        unknown,
      ),
    );
  }
  if (pod.spec === UNKNOWN) {
    unknown.push(pod.path);
    return out;
  }
  for (const c of containersOf(pod.spec, pod.path, unknown)) {
    const of = ` of container ${c.name}`;
    const env = c.container.env;
    if (isUnknown(env)) unknown.push([...c.path, "env"]);
    else if (Array.isArray(env)) {
      env.forEach((e, i) => {
        if (isUnknown(e)) return void unknown.push([...c.path, "env", String(i)]);
        if (!isObject(e)) return;
        const name = typeof e.name === "string" && !isUnknown(e.name) ? e.name : `env[${i}]`;
        if (isUnknown(e.value)) unknown.push([...c.path, "env", String(i), "value"]);
        else if (typeof e.value === "string") {
          out.push({
            kind: "env",
            where: `env ${name}${of}`,
            name,
            value: e.value,
            text: "command",
            path: [...c.path, "env", String(i), "value"],
          });
        }
      });
    }
    const lines: [string, unknown][] = [
      [
        "command and args",
        [
          ...(Array.isArray(c.container.command) ? c.container.command : []),
          ...(Array.isArray(c.container.args) ? c.container.args : []),
        ],
      ],
    ];
    for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
      const p = c.container[probe];
      if (isObject(p) && isObject(p.exec)) lines.push([`${probe} command`, p.exec.command]);
    }
    const lifecycle = c.container.lifecycle;
    if (isObject(lifecycle)) {
      for (const hook of ["postStart", "preStop"]) {
        const h = lifecycle[hook];
        if (isObject(h) && isObject(h.exec)) lines.push([`${hook} hook command`, h.exec.command]);
      }
    }
    for (const [what, list] of lines) {
      if (Array.isArray(list) && list.some(isUnknown))
        unknown.push([...c.path, what.split(" ")[0] as string]);
      const text = commandText(list);
      if (text !== undefined && text !== "")
        out.push({
          kind: "command",
          where: `${what}${of}`,
          value: text,
          text: "command",
          path: c.path,
        });
    }
  }
  return out;
}

/**
 * Every string of a resource of another provider (a dynamic resource, a command): its inputs, as
 * places a copied secret could sit. Top-level keys starting with `__` are the SDK's own (the
 * engine does not send them either).
 */
export function inputStringSites(r: KubeResource, unknown: string[][] = []): PlainSite[] {
  const out: PlainSite[] = [];
  const walk = (v: unknown, path: string[]) => {
    if (out.length >= 256) return;
    if (isUnknown(v)) return void unknown.push(path);
    if (typeof v === "string") {
      out.push({
        kind: "input",
        where: `input ${path.join(".")}`,
        value: v,
        text: "command",
        path,
      });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, String(i)]));
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  for (const [k, v] of Object.entries(r.props)) if (!k.startsWith("__")) walk(v, [k]);
  return out;
}

/** Why a plain site looks like it holds a secret, in words; empty when it does not. Never a value. */
export function plaintextSecretReasons(site: PlainSite): string[] {
  const reasons: string[] = [];
  if (site.value === "") return reasons;
  if (
    (site.kind === "env" || site.kind === "annotation" || site.kind === "configMap") &&
    site.name !== undefined
  ) {
    if (isSensitiveName(site.name) && !isReference(site.value))
      reasons.push(`its name (${site.name}) says it holds a secret`);
  }
  const assigned = sensitiveAssignments(site.value, site.text);
  if (assigned.length > 0) reasons.push(`it assigns a value to ${assigned.join(", ")}`);
  if (hasCredentialUrl(site.value)) reasons.push("it holds a URL with a password in it");
  return reasons;
}
