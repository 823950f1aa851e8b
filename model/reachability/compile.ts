/**
 * Compiling a world: every namespace and policy is validated once, then indexed for many queries.
 * Invalid objects (ones the API server would reject: an `In` with no values, an `ipBlock` beside a
 * selector, `endPort` with a named port, ...) throw a plain Error naming the policy and the field,
 * instead of being given a meaning Kubernetes never gives them.
 */
import { type Cidr, parseCidr } from "./ip";
import {
  type Labels,
  type LabelSelector,
  NAMESPACE_NAME_LABEL,
  type NetworkPolicy,
  type NetworkPolicyEgressRule,
  type NetworkPolicyIngressRule,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
  type PolicyType,
  type Protocol,
  PROTOCOLS,
  type World,
} from "./types";

type Matcher = (labels: Labels) => boolean;

export type CompiledPeer =
  | { kind: "selector"; pods?: Matcher; namespaces?: Matcher }
  | { kind: "ipBlock"; cidr: Cidr; except: Cidr[] };

type CompiledPort =
  | { kind: "all"; protocol: Protocol }
  | { kind: "range"; protocol: Protocol; from: number; to: number }
  | { kind: "named"; protocol: Protocol; name: string };

export interface CompiledRule {
  label: string;
  /** Undefined: every peer. */
  peers?: CompiledPeer[];
  /** Undefined: every port. */
  ports?: CompiledPort[];
}

export interface CompiledPolicy {
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

export function checkLabels(labels: Labels | undefined, where: string): Labels {
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

export function checkPortNumber(n: unknown, where: string): asserts n is number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`${where} must be an integer from 1 to 65535`);
  }
}
