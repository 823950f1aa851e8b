/**
 * The allowances of a set of NetworkPolicies, per direction, in words: the `network:ingress` and
 * `network:egress` items of parity, which may differ between environments and are shown side by
 * side. Whether environments can reach each other is model/reachability/'s question, not this one.
 */
import { NAMESPACE_NAME_LABEL } from "../reachability/types";
import { isObject } from "../resources";
import { canonicalJson } from "./document";

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
