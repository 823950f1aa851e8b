/**
 * How NetworkPolicies reach: an evaluator of Kubernetes NetworkPolicy semantics over plain,
 * Kubernetes-shaped objects (as the program registers them). The verify tool prints an isolation
 * matrix from it and the policy pack asks it whether environments are isolated, so both read this
 * one model. Pure functions and types; no Pulumi, no cluster.
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
 * Invalid objects (ones the API server would reject: an `In` with no values, an `ipBlock` beside a
 * selector, `endPort` with a named port, ...) throw a plain Error naming the policy and the field,
 * instead of being given a meaning Kubernetes never gives them.
 */

export type Labels = Readonly<Record<string, string>>;
export type Protocol = "TCP" | "UDP" | "SCTP";
export type PolicyType = "Ingress" | "Egress";

export const PROTOCOLS: readonly Protocol[] = ["TCP", "UDP", "SCTP"];
/** Set by the control plane on every namespace to its name, and immutable: select namespaces by it. */
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

// ---------------------------------------------------------------------------------------------
// Compiling a world: validate once, then answer many queries.

type Matcher = (labels: Labels) => boolean;

interface Cidr {
  family: 4 | 6;
  base: bigint;
  bits: number;
  text: string;
}

type CompiledPeer =
  | { kind: "selector"; pods?: Matcher; namespaces?: Matcher }
  | { kind: "ipBlock"; cidr: Cidr; except: Cidr[] };

type CompiledPort =
  | { kind: "all"; protocol: Protocol }
  | { kind: "range"; protocol: Protocol; from: number; to: number }
  | { kind: "named"; protocol: Protocol; name: string };

interface CompiledRule {
  label: string;
  /** Undefined: every peer. */
  peers?: CompiledPeer[];
  /** Undefined: every port. */
  ports?: CompiledPort[];
}

interface CompiledPolicy {
  id: string;
  namespace: string;
  selects: Matcher;
  types: ReadonlySet<PolicyType>;
  ingress: CompiledRule[];
  egress: CompiledRule[];
}

const COMPILED = Symbol("reachability.compiled");

/** A validated world, ready for many queries. Build with `compileWorld`. */
export interface CompiledWorld {
  readonly [COMPILED]: true;
  readonly namespaceLabels: ReadonlyMap<string, Labels>;
  readonly policiesByNamespace: ReadonlyMap<string, readonly CompiledPolicy[]>;
}

/**
 * Validates every namespace and policy (throwing an Error that names the object and field the API
 * server would reject) and indexes them. `canConnect` accepts a plain `World` too and compiles it
 * each time; compile once when asking many questions.
 */
export function compileWorld(world: World | CompiledWorld): CompiledWorld {
  if (isCompiled(world)) return world;
  if (world === null || typeof world !== "object") throw new Error("world must be an object");
  const namespaces = checkList(world.namespaces, "world.namespaces") ?? [];
  const policies = checkList(world.policies, "world.policies") ?? [];
  const namespaceLabels = new Map<string, Labels>();
  for (const [i, ns] of namespaces.entries()) {
    const name = ns?.metadata?.name;
    if (typeof name !== "string" || name === "") {
      throw new Error(`namespaces[${i}]: metadata.name must be a non-empty string`);
    }
    if (namespaceLabels.has(name))
      throw new Error(`namespaces[${i}]: namespace ${name} is listed twice`);
    namespaceLabels.set(name, {
      ...checkLabels(ns.metadata.labels, `namespace ${name}`),
      [NAMESPACE_NAME_LABEL]: name,
    });
  }
  const policiesByNamespace = new Map<string, CompiledPolicy[]>();
  const seen = new Set<string>();
  for (const [i, policy] of policies.entries()) {
    const compiled = compilePolicy(policy, i);
    if (seen.has(compiled.id)) throw new Error(`NetworkPolicy ${compiled.id} is listed twice`);
    seen.add(compiled.id);
    const list = policiesByNamespace.get(compiled.namespace) ?? [];
    list.push(compiled);
    policiesByNamespace.set(compiled.namespace, list);
  }
  return { [COMPILED]: true, namespaceLabels, policiesByNamespace };
}

function isCompiled(world: World | CompiledWorld): world is CompiledWorld {
  return (world as Partial<CompiledWorld>)[COMPILED] === true;
}

function compilePolicy(policy: NetworkPolicy, index: number): CompiledPolicy {
  const name = policy?.metadata?.name;
  const namespace = policy?.metadata?.namespace;
  if (
    typeof name !== "string" ||
    name === "" ||
    typeof namespace !== "string" ||
    namespace === ""
  ) {
    throw new Error(
      `policies[${index}]: metadata.name and metadata.namespace must be non-empty strings`,
    );
  }
  const id = `${namespace}/${name}`;
  const where = (field: string) => `NetworkPolicy ${id}: ${field}`;
  const spec = policy.spec;
  if (spec === null || typeof spec !== "object") throw new Error(where("spec is required"));

  const ingressRules = checkList(spec.ingress, where("spec.ingress"));
  const egressRules = checkList(spec.egress, where("spec.egress"));
  const declared = checkList(spec.policyTypes, where("spec.policyTypes"));
  let types: Set<PolicyType>;
  if (declared === undefined || declared.length === 0) {
    // SetDefaults_NetworkPolicy: Ingress always, Egress only when there is an egress rule.
    types = new Set<PolicyType>(["Ingress"]);
    if (egressRules !== undefined && egressRules.length > 0) types.add("Egress");
  } else {
    types = new Set<PolicyType>();
    for (const [i, t] of declared.entries()) {
      if (t !== "Ingress" && t !== "Egress") {
        throw new Error(where(`spec.policyTypes[${i}] must be "Ingress" or "Egress"`));
      }
      types.add(t);
    }
  }

  const compileRules = (
    rules: readonly (NetworkPolicyIngressRule | NetworkPolicyEgressRule)[] | undefined,
    direction: "ingress" | "egress",
  ): CompiledRule[] =>
    (rules ?? []).map((rule, i) => {
      const field = `spec.${direction}[${i}]`;
      if (rule === null || typeof rule !== "object")
        throw new Error(where(`${field} must be an object`));
      const peerKey = direction === "ingress" ? "from" : "to";
      const peers = checkList(
        (rule as Record<string, unknown>)[peerKey] as NetworkPolicyPeer[] | undefined,
        where(`${field}.${peerKey}`),
      );
      const ports = checkList(rule.ports, where(`${field}.ports`));
      return {
        label: `${id} ${direction}[${i}]`,
        peers:
          peers === undefined || peers.length === 0
            ? undefined
            : peers.map((p, j) => compilePeer(p, where(`${field}.${peerKey}[${j}]`))),
        ports:
          ports === undefined || ports.length === 0
            ? undefined
            : ports.map((p, j) => compilePort(p, where(`${field}.ports[${j}]`))),
      };
    });

  return {
    id,
    namespace,
    selects: compileSelector(spec.podSelector ?? {}, where("spec.podSelector")),
    types,
    ingress: compileRules(ingressRules, "ingress"),
    egress: compileRules(egressRules, "egress"),
  };
}

function compilePeer(peer: NetworkPolicyPeer, where: string): CompiledPeer {
  if (peer === null || typeof peer !== "object") throw new Error(`${where} must be an object`);
  const { podSelector, namespaceSelector, ipBlock } = peer;
  if (ipBlock !== undefined && ipBlock !== null) {
    if (podSelector !== undefined || namespaceSelector !== undefined) {
      throw new Error(`${where}: ipBlock cannot be combined with podSelector or namespaceSelector`);
    }
    const cidr = parseCidr(ipBlock.cidr, `${where}.ipBlock.cidr`);
    const except = (checkList(ipBlock.except, `${where}.ipBlock.except`) ?? []).map((e, k) =>
      parseCidr(e, `${where}.ipBlock.except[${k}]`),
    );
    return { kind: "ipBlock", cidr, except };
  }
  if (podSelector === undefined && namespaceSelector === undefined) {
    throw new Error(`${where}: a peer needs podSelector, namespaceSelector or ipBlock`);
  }
  return {
    kind: "selector",
    pods:
      podSelector === undefined ? undefined : compileSelector(podSelector, `${where}.podSelector`),
    namespaces:
      namespaceSelector === undefined
        ? undefined
        : compileSelector(namespaceSelector, `${where}.namespaceSelector`),
  };
}

function compilePort(entry: NetworkPolicyPort, where: string): CompiledPort {
  if (entry === null || typeof entry !== "object") throw new Error(`${where} must be an object`);
  const protocol = entry.protocol ?? "TCP";
  if (!PROTOCOLS.includes(protocol)) throw new Error(`${where}.protocol must be TCP, UDP or SCTP`);
  const { port, endPort } = entry;
  if (port === undefined) {
    if (endPort !== undefined) throw new Error(`${where}.endPort needs a numeric port`);
    return { kind: "all", protocol };
  }
  if (typeof port === "string") {
    if (endPort !== undefined) throw new Error(`${where}.endPort cannot be used with a named port`);
    if (/^[0-9]+$/.test(port)) {
      throw new Error(
        `${where}.port "${port}" is a string, so a port name; write the number as a number`,
      );
    }
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(port) || port.length > 15) {
      throw new Error(`${where}.port "${port}" is not a valid port name (IANA_SVC_NAME)`);
    }
    return { kind: "named", protocol, name: port };
  }
  checkPortNumber(port, `${where}.port`);
  if (endPort === undefined) return { kind: "range", protocol, from: port, to: port };
  checkPortNumber(endPort, `${where}.endPort`);
  if (endPort < port) throw new Error(`${where}.endPort must be >= port`);
  return { kind: "range", protocol, from: port, to: endPort };
}

function compileSelector(selector: LabelSelector, where: string): Matcher {
  if (selector === null || typeof selector !== "object") {
    throw new Error(`${where} must be a label selector object ({} selects everything)`);
  }
  const matchLabels = Object.entries(checkLabels(selector.matchLabels, where));
  const expressions = (checkList(selector.matchExpressions, `${where}.matchExpressions`) ?? []).map(
    (req, i) => {
      const at = `${where}.matchExpressions[${i}]`;
      if (
        req === null ||
        typeof req !== "object" ||
        typeof req.key !== "string" ||
        req.key === ""
      ) {
        throw new Error(`${at}.key must be a non-empty string`);
      }
      const values = checkList(req.values, `${at}.values`) ?? [];
      switch (req.operator) {
        case "In":
        case "NotIn":
          if (values.length === 0)
            throw new Error(`${at}: ${req.operator} needs at least one value`);
          break;
        case "Exists":
        case "DoesNotExist":
          if (values.length > 0) throw new Error(`${at}: ${req.operator} takes no values`);
          break;
        default:
          throw new Error(`${at}.operator must be In, NotIn, Exists or DoesNotExist`);
      }
      return { key: req.key, operator: req.operator, values: new Set(values) };
    },
  );
  return (labels) =>
    matchLabels.every(([k, v]) => labels[k] === v) &&
    expressions.every(({ key, operator, values }) => {
      const has = Object.prototype.hasOwnProperty.call(labels, key);
      switch (operator) {
        case "In":
          return has && values.has(labels[key] as string);
        case "NotIn":
          return !has || !values.has(labels[key] as string);
        case "Exists":
          return has;
        case "DoesNotExist":
          return !has;
      }
    });
}

/** Label-selector matching, exported for callers that select namespaces or pods themselves. */
export function matchesSelector(selector: LabelSelector, labels: Labels): boolean {
  return compileSelector(selector, "selector")(labels);
}

function checkLabels(labels: Labels | undefined, where: string): Labels {
  if (labels === undefined || labels === null) return {};
  if (typeof labels !== "object" || Array.isArray(labels))
    throw new Error(`${where}: labels must be a map`);
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== "string") throw new Error(`${where}: label ${k} must have a string value`);
  }
  return labels;
}

function checkList<T>(
  value: readonly T[] | undefined | null,
  where: string,
): readonly T[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new Error(`${where} must be a list`);
  return value;
}

function checkPortNumber(n: unknown, where: string): asserts n is number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`${where} must be an integer from 1 to 65535`);
  }
}

// ---------------------------------------------------------------------------------------------
// Port sets: per protocol, sorted disjoint inclusive ranges.

type Ranges = readonly (readonly [number, number])[];
type PortSet = Readonly<Record<Protocol, Ranges>>;

const ALL_PORTS: Ranges = [[1, 65535]];
const EMPTY: PortSet = { TCP: [], UDP: [], SCTP: [] };
const EVERYTHING: PortSet = { TCP: ALL_PORTS, UDP: ALL_PORTS, SCTP: ALL_PORTS };

function normalize(ranges: (readonly [number, number])[]): Ranges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [from, to] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

function union(a: PortSet, b: PortSet): PortSet {
  return {
    TCP: normalize([...a.TCP, ...b.TCP]),
    UDP: normalize([...a.UDP, ...b.UDP]),
    SCTP: normalize([...a.SCTP, ...b.SCTP]),
  };
}

function intersectRanges(a: Ranges, b: Ranges): Ranges {
  const out: [number, number][] = [];
  for (const [af, at] of a) {
    for (const [bf, bt] of b) {
      const from = Math.max(af, bf);
      const to = Math.min(at, bt);
      if (from <= to) out.push([from, to]);
    }
  }
  return normalize(out);
}

function intersect(a: PortSet, b: PortSet): PortSet {
  return {
    TCP: intersectRanges(a.TCP, b.TCP),
    UDP: intersectRanges(a.UDP, b.UDP),
    SCTP: intersectRanges(a.SCTP, b.SCTP),
  };
}

function isEmpty(set: PortSet): boolean {
  return PROTOCOLS.every((p) => set[p].length === 0);
}

function toPortRanges(set: PortSet): PortRange[] {
  return PROTOCOLS.flatMap((protocol) =>
    set[protocol].map(([from, to]) => ({ protocol, from, to })),
  );
}

/** "all ports", "all TCP ports, UDP 53", "TCP 53, TCP 8000-8080", or "no port". */
export function formatPorts(ranges: readonly PortRange[]): string {
  if (ranges.length === 0) return "no port";
  const full = (p: Protocol) =>
    ranges.some((r) => r.protocol === p && r.from === 1 && r.to === 65535);
  if (PROTOCOLS.every(full)) return "all ports";
  return ranges
    .map((r) =>
      r.from === 1 && r.to === 65535
        ? `all ${r.protocol} ports`
        : r.from === r.to
          ? `${r.protocol} ${r.from}`
          : `${r.protocol} ${r.from}-${r.to}`,
    )
    .join(", ");
}

// ---------------------------------------------------------------------------------------------
// Queries.

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

// ---------------------------------------------------------------------------------------------
// The isolation matrix.

/** One environment's representative pod. */
export interface EnvPod {
  env: string;
  namespace: string;
  pod: Labels;
  ip?: string;
  ports?: readonly ContainerPort[];
}

export interface MatrixCell {
  from: string;
  to: string;
  verdict: Verdict;
}

export interface Matrix {
  envs: string[];
  /** Every ordered pair, each environment with itself included, in `envs` order. */
  cells: MatrixCell[];
  /** Egress from each environment to `externalIp`. */
  external: { env: string; verdict: Verdict }[];
  externalIp: string;
  port?: PortQuery;
}

export interface MatrixOptions {
  /** Ask about one port; by default, whether any connection can be opened. */
  port?: PortQuery;
  /** The outside address for the external column; DEFAULT_EXTERNAL_PROBE_IP by default. */
  externalIp?: string;
}

/**
 * For every ordered pair of environments, and each with itself (two pods of the same
 * environment), whether a pod of one can open a connection to a pod of the other; and whether each
 * can reach outside the cluster.
 */
export function isolationMatrix(
  world: World | CompiledWorld,
  envs: readonly EnvPod[],
  options: MatrixOptions = {},
): Matrix {
  const compiled = compileWorld(world);
  const names = new Set<string>();
  for (const e of envs) {
    if (names.has(e.env)) throw new Error(`isolationMatrix: environment ${e.env} is listed twice`);
    names.add(e.env);
  }
  const pod = (e: EnvPod): PodRef => ({
    namespace: e.namespace,
    labels: e.pod,
    name: `${e.env} pod`,
    ...(e.ip !== undefined ? { ip: e.ip } : {}),
    ...(e.ports !== undefined ? { ports: e.ports } : {}),
  });
  const externalIp = options.externalIp ?? DEFAULT_EXTERNAL_PROBE_IP;
  return {
    envs: envs.map((e) => e.env),
    cells: envs.flatMap((a) =>
      envs.map((b) => ({
        from: a.env,
        to: b.env,
        verdict: canConnect(compiled, pod(a), pod(b), options.port),
      })),
    ),
    external: envs.map((e) => ({
      env: e.env,
      verdict: canConnect(compiled, pod(e), { kind: "external", ip: externalIp }, options.port),
    })),
    externalIp,
    ...(options.port !== undefined ? { port: options.port } : {}),
  };
}

/** The verdict for one ordered pair of a matrix. */
export function matrixCell(matrix: Matrix, from: string, to: string): Verdict {
  const cell = matrix.cells.find((c) => c.from === from && c.to === to);
  if (cell === undefined) throw new Error(`matrixCell: no cell from ${from} to ${to}`);
  return cell.verdict;
}

/** The cells where one environment can reach another: what isolation between them forbids. */
export function crossEnvironmentLeaks(matrix: Matrix): MatrixCell[] {
  return matrix.cells.filter((c) => c.from !== c.to && c.verdict.allowed);
}

/** The matrix as a text table: rows are sources, columns destinations, then the outside. */
export function formatIsolationMatrix(matrix: Matrix): string {
  const mark = (v: Verdict) => (v.allowed ? "allow" : "deny");
  const header = ["from \\ to", ...matrix.envs, `external ${matrix.externalIp}`];
  const rows = matrix.envs.map((from) => [
    from,
    ...matrix.envs.map((to) => mark(matrixCell(matrix, from, to))),
    mark((matrix.external.find((e) => e.env === from) as { verdict: Verdict }).verdict),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join("  ")
      .trimEnd();
  const title =
    matrix.port === undefined
      ? "can a pod open a connection (any port)"
      : `can a pod open a connection on ${matrix.port.protocol ?? "TCP"} ${matrix.port.port}`;
  return [title, line(header), ...rows.map(line)].join("\n");
}

// ---------------------------------------------------------------------------------------------
// IP addresses and CIDRs (IPv4 and IPv6), as bigints.

function parseIPv4(text: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) return undefined;
  let value = 0n;
  for (const part of m.slice(1)) {
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIPv6(text: string): bigint | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string, last: boolean): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (const [i, p] of parts.entries()) {
      if (last && i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIPv4(p);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0] as string, halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1] as string, true) : [];
  if (head === undefined || tail === undefined) return undefined;
  let all: number[];
  if (halves.length === 1) {
    if (head.length !== 8) return undefined;
    all = head;
  } else {
    if (head.length + tail.length > 7) return undefined;
    all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function parseIp(text: string): { family: 4 | 6; value: bigint } | undefined {
  if (typeof text !== "string") return undefined;
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = text.includes(":") ? parseIPv6(text) : undefined;
  return v6 === undefined ? undefined : { family: 6, value: v6 };
}

function parseCidr(text: string, where: string): Cidr {
  const m = typeof text === "string" ? /^([^/]+)\/(\d{1,3})$/.exec(text) : null;
  const ip = m === null ? undefined : parseIp(m[1] as string);
  const bits = m === null ? NaN : Number(m[2]);
  if (ip === undefined || !(bits <= (ip.family === 4 ? 32 : 128))) {
    throw new Error(`${where} must be a CIDR such as 10.0.0.0/8 or 0.0.0.0/0`);
  }
  return { family: ip.family, base: ip.value, bits, text };
}

function cidrContains(cidr: Cidr, ip: { family: 4 | 6; value: bigint }): boolean {
  if (cidr.family !== ip.family) return false;
  const shift = BigInt((cidr.family === 4 ? 32 : 128) - cidr.bits);
  return ip.value >> shift === cidr.base >> shift;
}
