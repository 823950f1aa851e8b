/**
 * The walk the two namespace-selector policies share: each rule Kubernetes applies of a
 * NetworkPolicy spec, and each peer of it that carries a namespaceSelector. What preview does not
 * know yet is noted in the check's result, at the path a user would look at.
 */
import { activeRules, type ActiveRule } from "../../model/reachability/fromResources";
import { containsUnknown, isObject, isUnknown } from "../../model/resources";
import type { CheckResult } from "./policy";

/** The spec's active rules; none, with `spec` noted unknown, when preview does not know it. */
export function rulesOf(spec: unknown, out: CheckResult): ActiveRule[] {
  if (isUnknown(spec)) {
    out.unknown.push(["spec"]);
    return [];
  }
  return isObject(spec) ? activeRules(spec) : [];
}

/** `from` for an ingress rule, `to` for an egress one. */
export function peerWord(rule: ActiveRule): "from" | "to" {
  return rule.direction === "ingress" ? "from" : "to";
}

export interface NamespaceSelectorPeer {
  selector: unknown;
  /** The selector's path in the resource, e.g. spec.ingress[0].from[1].namespaceSelector. */
  path: string[];
}

/** The rule's peers with a known namespaceSelector; an unknown one is noted in `out`. */
export function namespaceSelectors(rule: ActiveRule, out: CheckResult): NamespaceSelectorPeer[] {
  const found: NamespaceSelectorPeer[] = [];
  (rule.peers ?? []).forEach((peer, i) => {
    if (!isObject(peer) || peer.namespaceSelector === undefined) return;
    const path = [...rule.path, peerWord(rule), String(i), "namespaceSelector"];
    if (containsUnknown(peer.namespaceSelector)) out.unknown.push(path);
    else found.push({ selector: peer.namespaceSelector, path });
  });
  return found;
}
