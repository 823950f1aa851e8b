/**
 * Can one endpoint open a connection to another? An evaluator of Kubernetes NetworkPolicy semantics
 * over plain, Kubernetes-shaped objects (as the program registers them). The verify tool prints an
 * isolation matrix from it (./matrix.ts) and the policy pack asks it whether environments are
 * isolated, so both read this one model. Pure functions; no Pulumi, no cluster.
 *
 * The semantics, with where Kubernetes defines each (kubernetes.io "Network Policies" concept page,
 * https://kubernetes.io/docs/concepts/services-networking/network-policies/, and the API reference,
 * https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/):
 *
 * - Isolation ("The two sorts of pod isolation"): a pod is isolated for ingress when any
 *   NetworkPolicy in its namespace selects it (`spec.podSelector`, `{}` selects every pod of the
 *   namespace) and has "Ingress" in `policyTypes`; the same for egress. A pod that no policy
 *   isolates in a direction allows everything in that direction.
 * - `policyTypes` defaulting (API reference, NetworkPolicySpec.policyTypes; kubernetes/kubernetes
 *   `pkg/apis/networking/v1/defaults.go` SetDefaults_NetworkPolicy): when omitted or empty it is
 *   ["Ingress"], plus "Egress" only when `spec.egress` has at least one rule (`len(Egress) != 0`,
 *   so `egress: []` does not add it). A direction missing from `policyTypes` is neither isolated
 *   nor allowed by that policy: its rules for that direction are ignored.
 * - Union ("Policies are additive"): when isolated, a connection is allowed in a direction when at
 *   least one rule of at least one selecting policy allows it; order never matters.
 * - Both ends ("for a connection from a source pod to a destination pod to be allowed, both the
 *   egress policy on the source pod and the ingress policy on the destination pod need to allow
 *   the connection").
 * - Rules (NetworkPolicyIngressRule / EgressRule): traffic must match `from`/`to` AND `ports`. An
 *   empty or missing `from`/`to` matches every source/destination (including outside the cluster);
 *   an empty or missing `ports` matches every port. An empty rule list (`ingress: []`) allows
 *   nothing; a rule `{}` allows everything.
 * - Peers ("Behavior of to and from selectors", NetworkPolicyPeer): elements of `from`/`to` are
 *   ORed. In one element, `namespaceSelector` and `podSelector` are ANDed (those pods in those
 *   namespaces); `podSelector` alone means pods of the policy's own namespace; `namespaceSelector`
 *   alone means every pod of the selected namespaces; `namespaceSelector: {}` selects every
 *   namespace. `ipBlock` excludes the other two.
 * - `ipBlock` (IPBlock): a CIDR minus its `except` CIDRs. Pods are addressed here by pod IP (the
 *   concept page warns that ipBlock on pod IPs depends on the network plugin, because of SNAT and
 *   the like; that is the plugin's business, this model takes the pod IP at face value).
 * - Ports (NetworkPolicyPort): `protocol` defaults to TCP; a missing `port` means every port of
 *   that protocol; `endPort` makes an inclusive range ("Targeting a range of ports"); a named port
 *   matches the destination pod's container port of that name and protocol.
 * - Label selectors (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/label-selector/):
 *   `matchLabels` and `matchExpressions` are ANDed; In, NotIn, Exists, DoesNotExist; NotIn also
 *   matches objects without the key (labels concept page, set-based requirements). `{}` matches
 *   everything.
 * - Namespace names ("Targeting a Namespace by its name"; labels-annotations-taints
 *   `kubernetes.io/metadata.name`): the control plane sets `kubernetes.io/metadata.name` to the
 *   namespace's name on every namespace and a user cannot set it to anything else. So it is added
 *   (and forced) here on every namespace, including namespaces the caller did not list.
 *
 * Simplifications, each deliberate:
 * - A namespace a pod or query names but `World.namespaces` does not list is taken to exist with
 *   only its automatic `kubernetes.io/metadata.name` label (kube-system, ingress-nginx, ...).
 * - A pod without an IP is matched by an `ipBlock` only when that block is a whole address family
 *   (`0.0.0.0/0` or `::/0`) with no `except`; any other block is taken as not matching it, and the
 *   verdict's `notes` say so, so a reader knows the answer assumed something.
 * - A named port resolves only against the ports the destination pod declares (`PodRef.ports`);
 *   undeclared, or towards an address outside the cluster, it matches nothing (with a note).
 * - Not modelled: host-network pods, the node-local traffic Kubernetes always allows, a pod's
 *   traffic to itself, Services (policies act on pod IPs after Service translation, so ask about
 *   the backing pods), and network plugins that do not implement NetworkPolicy at all.
 *
 * Invalid objects throw a plain Error naming the policy and the field (./compile.ts).
 */
import {
  checkLabels,
  checkPortNumber,
  type CompiledPeer,
  type CompiledRule,
  type CompiledWorld,
  compileWorld,
} from "./compile";
import { cidrContains, parseIp } from "./ip";
import {
  ALL_PORTS,
  EMPTY,
  EVERYTHING,
  formatPorts,
  intersect,
  isEmpty,
  type PortSet,
  toPortRanges,
  union,
} from "./ports";
import {
  DEFAULT_EXTERNAL_PROBE_IP,
  type DirectionVerdict,
  type Endpoint,
  type ExternalRef,
  type Labels,
  NAMESPACE_NAME_LABEL,
  type PodRef,
  type PolicyType,
  type PortQuery,
  PROTOCOLS,
  type Verdict,
  type World,
} from "./types";

/**
 * Can `from` open a connection to `to` (on `port`, or on any port when `port` is omitted)?
 * Evaluates the source's egress and the destination's ingress under Kubernetes semantics and
 * intersects the ports each allows.
 */
export function canConnect(
  world: World | CompiledWorld,
  from: Endpoint,
  to: Endpoint,
  port?: PortQuery,
): Verdict {
  const compiled = compileWorld(world);
  checkEndpoint(from, "from");
  checkEndpoint(to, "to");
  if (isExternal(from) && isExternal(to)) {
    throw new Error("canConnect: at least one end must be a pod; both are outside the cluster");
  }
  let query = EVERYTHING;
  if (port !== undefined) {
    checkPortNumber(port.port, "canConnect: port.port");
    const protocol = port.protocol ?? "TCP";
    if (!PROTOCOLS.includes(protocol))
      throw new Error("canConnect: port.protocol must be TCP, UDP or SCTP");
    query = { ...EMPTY, [protocol]: [[port.port, port.port]] };
  }

  const notes = new Set<string>();
  const egress = evaluateDirection(compiled, "Egress", from, to, query, notes);
  const ingress = evaluateDirection(compiled, "Ingress", to, from, query, notes);
  const shared = intersect(egress.set, ingress.set);
  const allowed = !isEmpty(shared);
  const verdict: Verdict = {
    allowed,
    egress: egress.verdict,
    ingress: ingress.verdict,
    ports: toPortRanges(shared),
    reason: "",
    notes: [...notes],
  };
  verdict.reason = explain(verdict, from, to, port);
  return verdict;
}

/** Can `from` reach an address outside the cluster (by default DEFAULT_EXTERNAL_PROBE_IP)? */
export function canReachExternal(
  world: World | CompiledWorld,
  from: PodRef,
  options: { ip?: string; port?: PortQuery } = {},
): Verdict {
  return canConnect(
    world,
    from,
    { kind: "external", ip: options.ip ?? DEFAULT_EXTERNAL_PROBE_IP },
    options.port,
  );
}

function isExternal(endpoint: Endpoint): endpoint is ExternalRef {
  return endpoint.kind === "external";
}

function checkEndpoint(endpoint: Endpoint, name: string): void {
  if (endpoint === null || typeof endpoint !== "object")
    throw new Error(`canConnect: ${name} must be an object`);
  if (isExternal(endpoint)) {
    if (parseIp(endpoint.ip) === undefined)
      throw new Error(`canConnect: ${name}.ip is not an IP address`);
    return;
  }
  if (typeof endpoint.namespace !== "string" || endpoint.namespace === "") {
    throw new Error(`canConnect: ${name}.namespace must be a non-empty string`);
  }
  checkLabels(endpoint.labels, `canConnect: ${name}`);
  if (endpoint.ip !== undefined && parseIp(endpoint.ip) === undefined) {
    throw new Error(`canConnect: ${name}.ip is not an IP address`);
  }
}

interface DirectionResult {
  verdict: DirectionVerdict;
  set: PortSet;
}

/**
 * One direction: `subject` is the pod whose policies apply (the source for Egress, the destination
 * for Ingress), `peer` the other end. Named ports resolve on the connection's destination.
 */
function evaluateDirection(
  world: CompiledWorld,
  direction: PolicyType,
  subject: Endpoint,
  peer: Endpoint,
  query: PortSet,
  notes: Set<string>,
): DirectionResult {
  if (isExternal(subject)) {
    return {
      verdict: {
        governed: false,
        isolated: false,
        isolatedBy: [],
        allowedBy: [],
        allowed: true,
        ports: toPortRanges(query),
      },
      set: query,
    };
  }
  const destination = direction === "Egress" ? peer : subject;
  const subjectLabels = subject.labels ?? {};
  const selecting = (world.policiesByNamespace.get(subject.namespace) ?? []).filter(
    (p) => p.types.has(direction) && p.selects(subjectLabels),
  );
  if (selecting.length === 0) {
    return {
      verdict: {
        governed: true,
        isolated: false,
        isolatedBy: [],
        allowedBy: [],
        allowed: !isEmpty(query),
        ports: toPortRanges(query),
      },
      set: query,
    };
  }
  let set = EMPTY;
  const allowedBy: string[] = [];
  for (const policy of selecting) {
    const rules = direction === "Ingress" ? policy.ingress : policy.egress;
    for (const rule of rules) {
      if (!ruleMatchesPeer(world, rule, policy.namespace, peer, notes)) continue;
      const ruleSet = intersect(rulePorts(rule, destination, notes), query);
      if (isEmpty(ruleSet)) continue;
      allowedBy.push(rule.label);
      set = union(set, ruleSet);
    }
  }
  return {
    verdict: {
      governed: true,
      isolated: true,
      isolatedBy: selecting.map((p) => p.id),
      allowedBy,
      allowed: !isEmpty(set),
      ports: toPortRanges(set),
    },
    set,
  };
}

function ruleMatchesPeer(
  world: CompiledWorld,
  rule: CompiledRule,
  policyNamespace: string,
  peer: Endpoint,
  notes: Set<string>,
): boolean {
  if (rule.peers === undefined) return true;
  return rule.peers.some((p) => {
    if (p.kind === "ipBlock") return ipBlockMatches(p, peer, rule.label, notes);
    if (isExternal(peer)) return false; // selectors only ever select pods
    const inNamespace =
      p.namespaces === undefined
        ? peer.namespace === policyNamespace
        : p.namespaces(namespaceLabels(world, peer.namespace));
    return inNamespace && (p.pods === undefined || p.pods(peer.labels ?? {}));
  });
}

function namespaceLabels(world: CompiledWorld, name: string): Labels {
  return world.namespaceLabels.get(name) ?? { [NAMESPACE_NAME_LABEL]: name };
}

function ipBlockMatches(
  block: Extract<CompiledPeer, { kind: "ipBlock" }>,
  peer: Endpoint,
  ruleLabel: string,
  notes: Set<string>,
): boolean {
  const ip = peer.ip === undefined ? undefined : parseIp(peer.ip);
  if (ip === undefined) {
    // Only a whole address family certainly contains a pod whose IP we do not know.
    const wholeFamily = block.cidr.bits === 0 && block.except.length === 0;
    notes.add(
      wholeFamily
        ? `${describe(peer)} has no IP; ${ruleLabel} ipBlock ${block.cidr.text} was taken to contain it`
        : `${describe(peer)} has no IP; ${ruleLabel} ipBlock ${block.cidr.text}` +
            `${block.except.length > 0 ? " (with except)" : ""} was taken NOT to contain it`,
    );
    return wholeFamily;
  }
  return cidrContains(block.cidr, ip) && !block.except.some((e) => cidrContains(e, ip));
}

function rulePorts(rule: CompiledRule, destination: Endpoint, notes: Set<string>): PortSet {
  if (rule.ports === undefined) return EVERYTHING;
  let set = EMPTY;
  for (const port of rule.ports) {
    if (port.kind === "all") set = union(set, { ...EMPTY, [port.protocol]: ALL_PORTS });
    else if (port.kind === "range")
      set = union(set, { ...EMPTY, [port.protocol]: [[port.from, port.to]] });
    else {
      const declared = isExternal(destination)
        ? undefined
        : destination.ports?.filter(
            (c) => c.name === port.name && (c.protocol ?? "TCP") === port.protocol,
          );
      if (declared === undefined || declared.length === 0) {
        notes.add(
          `${rule.label} names port "${port.name}" (${port.protocol}), which ${describe(destination)} ` +
            `does not declare; it was taken to match nothing`,
        );
        continue;
      }
      set = union(set, {
        ...EMPTY,
        [port.protocol]: declared.map((c) => [c.containerPort, c.containerPort] as const),
      });
    }
  }
  return set;
}

function describe(endpoint: Endpoint): string {
  if (isExternal(endpoint)) return `external ${endpoint.ip}`;
  if (endpoint.name !== undefined) return `pod ${endpoint.namespace}/${endpoint.name}`;
  const labels = Object.entries(endpoint.labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return `a pod {${labels}} in ${endpoint.namespace}`;
}

function explain(v: Verdict, from: Endpoint, to: Endpoint, port: PortQuery | undefined): string {
  const on = port === undefined ? "" : ` on ${port.protocol ?? "TCP"} ${port.port}`;
  const side = (
    d: DirectionVerdict,
    name: "egress" | "ingress",
    subject: Endpoint,
    peer: Endpoint,
  ) => {
    if (!d.governed) return `${name}: outside the cluster, no policy applies`;
    if (!d.isolated) return `${name} of ${describe(subject)} is not isolated`;
    if (d.allowed) return `${name} allowed by ${d.allowedBy.join(", ")}`;
    return (
      `${name} of ${describe(subject)} is isolated by ${d.isolatedBy.join(", ")} and no rule of ` +
      `those allows ${describe(peer)}${on}`
    );
  };
  const egress = side(v.egress, "egress", from, to);
  const ingress = side(v.ingress, "ingress", to, from);
  if (v.allowed) return `allowed on ${formatPorts(v.ports)}: ${egress}; ${ingress}`;
  if (!v.egress.allowed && !v.ingress.allowed) return `denied: ${egress}; and ${ingress}`;
  if (!v.egress.allowed) return `denied: ${egress}`;
  if (!v.ingress.allowed) return `denied: ${ingress}`;
  return (
    `denied: no port in common: egress allows ${formatPorts(v.egress.ports)} ` +
    `(${v.egress.allowedBy.join(", ") || "not isolated"}), ingress allows ` +
    `${formatPorts(v.ingress.ports)} (${v.ingress.allowedBy.join(", ") || "not isolated"})`
  );
}
