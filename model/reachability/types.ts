/**
 * What reachability is asked about, as plain Kubernetes-shaped objects (as the program registers
 * them): namespaces, NetworkPolicies and pods, the questions (two endpoints, a port) and the
 * verdicts. The semantics are in ./connect.ts; no Pulumi, no cluster.
 */

export type Labels = Readonly<Record<string, string>>;
export type Protocol = "TCP" | "UDP" | "SCTP";
export type PolicyType = "Ingress" | "Egress";

export const PROTOCOLS: readonly Protocol[] = ["TCP", "UDP", "SCTP"];
/**
 * Kubernetes sets this label on every namespace (since 1.21) to its name, and no one can change it.
 * Selecting namespaces by a label anyone may set (the article's `environment: prod`) lets a dev
 * namespace that labels itself `prod` in.
 */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
/**
 * The address asked about for "external" egress when none is given: in TEST-NET-3 (RFC 5737), so
 * no real policy allows it by name, and a policy that lets it out lets the internet at large out.
 */
export const DEFAULT_EXTERNAL_PROBE_IP = "203.0.113.10";

export interface LabelSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: readonly string[];
}

export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface IPBlock {
  cidr: string;
  except?: readonly string[];
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
}

export interface NetworkPolicyPort {
  protocol?: Protocol;
  port?: number | string;
  endPort?: number;
}

export interface NetworkPolicyIngressRule {
  from?: readonly NetworkPolicyPeer[];
  ports?: readonly NetworkPolicyPort[];
}

export interface NetworkPolicyEgressRule {
  to?: readonly NetworkPolicyPeer[];
  ports?: readonly NetworkPolicyPort[];
}

export interface NetworkPolicy {
  metadata: { name: string; namespace: string; labels?: Labels };
  spec: {
    /** Optional in the API; missing means `{}` (every pod of the namespace). */
    podSelector?: LabelSelector;
    policyTypes?: readonly PolicyType[];
    ingress?: readonly NetworkPolicyIngressRule[];
    egress?: readonly NetworkPolicyEgressRule[];
  };
}

export interface Namespace {
  metadata: { name: string; labels?: Labels };
}

/** What is deployed: namespaces (with their labels) and every NetworkPolicy, of any namespace. */
export interface World {
  namespaces: readonly Namespace[];
  policies: readonly NetworkPolicy[];
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: Protocol;
}

/** A pod, by what policies can see of it. */
export interface PodRef {
  kind?: "pod";
  namespace: string;
  labels?: Labels;
  /** Only for messages. */
  name?: string;
  /** The pod IP, for `ipBlock` peers. */
  ip?: string;
  /** Declared container ports, for named ports in policies. */
  ports?: readonly ContainerPort[];
}

/** An address outside the cluster. No NetworkPolicy governs its side of a connection. */
export interface ExternalRef {
  kind: "external";
  ip: string;
}

export type Endpoint = PodRef | ExternalRef;

/** A specific port to ask about. Without one, a query asks whether any connection can be opened. */
export interface PortQuery {
  port: number;
  protocol?: Protocol;
}

export interface PortRange {
  protocol: Protocol;
  from: number;
  to: number;
}

/** One side of a connection: the source's egress or the destination's ingress. */
export interface DirectionVerdict {
  /** False when this side is outside the cluster, where no NetworkPolicy applies. */
  governed: boolean;
  /** Some policy selects the pod and has this direction in its policyTypes. */
  isolated: boolean;
  /** Those policies, as `namespace/name`. */
  isolatedBy: string[];
  /** The rules that allow this peer (on the asked port, if any), as `namespace/name egress[0]`. */
  allowedBy: string[];
  /** This side alone lets the connection through (on the asked port, or on some port). */
  allowed: boolean;
  /** The ports this side allows towards/from the peer, within the asked port if any. */
  ports: PortRange[];
}

export interface Verdict {
  /** Egress of the source AND ingress of the destination allow it, on a port they share. */
  allowed: boolean;
  egress: DirectionVerdict;
  ingress: DirectionVerdict;
  /** The ports on which the connection can be opened: both sides' ports, intersected. */
  ports: PortRange[];
  /** One sentence: why. */
  reason: string;
  /** Assumptions the answer rests on (a pod without IP, an unresolved named port). */
  notes: string[];
}
