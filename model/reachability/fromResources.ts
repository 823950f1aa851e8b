/**
 * A stack's Namespace and NetworkPolicy resources as ./connect.ts reads them, and the rules that are
 * in force (a rule of a direction missing from an explicit `policyTypes` is ignored by Kubernetes).
 * The network policies of the pack and `verify`'s isolation matrix both read resources through here.
 */
import { isEnvName, type EnvName, ENVIRONMENTS } from "../environment";
import {
  containsUnknown,
  isObject,
  kindOf,
  type KubeResource,
  labelsOf,
  metadataField,
} from "../resources";
import { commonLabels, ENVIRONMENT_LABEL, podSecurityLabels } from "../workload";
import { type Labels, NAMESPACE_NAME_LABEL, type NetworkPolicy } from "./types";

export interface ActiveRule {
  direction: "ingress" | "egress";
  index: number;
  /** undefined: the rule names no peer, so it allows every peer. */
  peers: unknown[] | undefined;
  ports: unknown;
  path: string[];
}

/** The rules of a NetworkPolicy spec that Kubernetes applies. */
export function activeRules(spec: Record<string, unknown>): ActiveRule[] {
  const types = Array.isArray(spec.policyTypes) ? spec.policyTypes : undefined;
  const out: ActiveRule[] = [];
  for (const [direction, type, peerKey] of [
    ["ingress", "Ingress", "from"],
    ["egress", "Egress", "to"],
  ] as const) {
    if (types !== undefined && types.length > 0 && !types.includes(type)) continue;
    const rules = spec[direction];
    if (!Array.isArray(rules)) continue;
    rules.forEach((rule, index) => {
      if (!isObject(rule)) return;
      const peers = rule[peerKey];
      out.push({
        direction,
        index,
        peers: Array.isArray(peers) && peers.length > 0 ? peers : undefined,
        ports: rule.ports,
        path: ["spec", direction, String(index)],
      });
    });
  }
  return out;
}

/** A NetworkPolicy resource in reachability's shape; undefined when a value it needs is unknown. */
export function toNetworkPolicy(r: KubeResource): NetworkPolicy | undefined {
  const name = metadataField(r.props, "name");
  const namespace = metadataField(r.props, "namespace");
  const spec = r.props.spec;
  if (typeof namespace !== "string" || !isObject(spec) || containsUnknown(spec)) return undefined;
  return {
    metadata: { name: typeof name === "string" ? name : r.name, namespace },
    spec: spec as NetworkPolicy["spec"],
  };
}

/** The environment namespaces a stack creates: name, labels, environment, app name. */
export interface EnvNamespace {
  name: string;
  labels: Labels;
  env: EnvName;
  app: string;
}

export function environmentNamespaces(resources: readonly KubeResource[]): EnvNamespace[] {
  const out: EnvNamespace[] = [];
  for (const r of resources) {
    if (kindOf(r.type) !== "Namespace") continue;
    const name = metadataField(r.props, "name");
    const labels = labelsOf(r.props);
    const env = labels[ENVIRONMENT_LABEL];
    if (typeof name !== "string" || env === undefined || !isEnvName(env)) continue;
    const app =
      labels["app.kubernetes.io/name"] ??
      (name.endsWith(`-${env}`) ? name.slice(0, -env.length - 1) : name);
    out.push({ name, labels: { ...labels, [NAMESPACE_NAME_LABEL]: name }, env, app });
  }
  return out;
}

/**
 * The namespaces of the other environments of the same app, with the labels the program gives
 * them (model/workload.ts): what a rule of this stack must never select.
 */
export function otherEnvironmentNamespaces(own: EnvNamespace): EnvNamespace[] {
  return ENVIRONMENTS.filter((e) => e !== own.env).map((env) => {
    const name = `${own.app}-${env}`;
    return {
      name,
      env,
      app: own.app,
      labels: {
        ...commonLabels(own.app, env, "namespace"),
        ...podSecurityLabels(),
        [NAMESPACE_NAME_LABEL]: name,
      },
    };
  });
}
