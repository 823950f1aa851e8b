/**
 * The network model (docs/stacks.md, "What each stack provisions") as plain NetworkPolicy specs. The program creates exactly these,
 * and the isolation matrix (model/reachability/) evaluates them: one definition, two readers.
 */

import { NAMESPACE_NAME_LABEL, type LabelSelector, type NetworkPolicy } from "./reachability/types";

export type NetworkPolicySpec = NetworkPolicy["spec"];

export interface NamedPolicy {
  /** Suffix of the policy's name; the component prefixes it with the environment's name. */
  role: string;
  spec: NetworkPolicySpec;
}

export interface NetworkModelInput {
  namespace: string;
  /** Namespaces allowed to send ingress traffic (the ingress controller's). */
  ingressNamespaces: string[];
  /** CIDRs pods may reach outside the cluster. */
  egressCidrs: string[];
}

function byName(namespace: string): LabelSelector {
  return { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } };
}

/** The NetworkPolicies for one environment's namespace. */
export function networkPolicies(input: NetworkModelInput): NamedPolicy[] {
  const policies: NamedPolicy[] = [
    {
      // Both directions, every pod, no rules: anything not allowed below is denied. Without the
      // Egress type a compromised pod could still call out anywhere.
      role: "default-deny",
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
    {
      // The app talks to its database and the migration Job reaches it too: all of it is inside
      // the namespace. A podSelector alone means "pods of this policy's namespace".
      role: "allow-same-namespace",
      spec: {
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [{ to: [{ podSelector: {} }] }],
      },
    },
    {
      // Default-deny egress also blocks name resolution; the cluster DNS lives in kube-system and
      // answers on UDP 53, falling back to TCP 53 for large answers.
      role: "allow-dns",
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ namespaceSelector: byName("kube-system") }],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      },
    },
  ];
  if (input.ingressNamespaces.length > 0) {
    policies.push({
      // Only the ingress controller's namespaces may reach the app; one peer per namespace (ORed).
      role: "allow-ingress-controller",
      spec: {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [{ from: input.ingressNamespaces.map((ns) => ({ namespaceSelector: byName(ns) })) }],
      },
    });
  }
  if (input.egressCidrs.length > 0) {
    policies.push({
      // Explicit allowances out of the cluster (dev's package registries, say). Never in prod by
      // policy when it is 0.0.0.0/0.
      role: "allow-egress-cidrs",
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: input.egressCidrs.map((cidr) => ({ ipBlock: { cidr } })) }],
      },
    });
  }
  return policies;
}
