import assert from "node:assert/strict";
import fc from "fast-check";
import { canConnect, canReachExternal } from "../../model/reachability/connect";
import { compileWorld, matchesSelector } from "../../model/reachability/compile";
import {
  crossEnvironmentLeaks,
  type EnvPod,
  formatIsolationMatrix,
  isolationMatrix,
  matrixCell,
} from "../../model/reachability/matrix";
import {
  DEFAULT_EXTERNAL_PROBE_IP,
  type Endpoint,
  type Labels,
  type LabelSelector,
  NAMESPACE_NAME_LABEL,
  type Namespace,
  type NetworkPolicy,
  type NetworkPolicyIngressRule,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
  type PodRef,
  type PortQuery,
  type PortRange,
  type World,
} from "../../model/reachability/types";
import { formatPorts } from "../../model/reachability/ports";
import { networkPolicies } from "../../model/network";

// The NetworkPolicies model/network.ts builds, in each namespace, with the ingress controller's
// namespace and no egress allowances (dev's stack file allows 0.0.0.0/0; test/model/network.test.ts
// covers that); then one change per case. What the model must answer is written out in each test.

const ENVS = ["dev", "staging", "prod"] as const;
type Env = (typeof ENVS)[number];
const ns = (env: Env) => `app-${env}`;
const byName = (name: string): LabelSelector => ({ matchLabels: { [NAMESPACE_NAME_LABEL]: name } });

const APP: Labels = { app: "web" };
const pod = (env: Env, labels: Labels = APP, extra: Partial<PodRef> = {}): PodRef => ({
  namespace: ns(env),
  labels,
  name: `${env}-web`,
  ...extra,
});
const dnsPod: PodRef = {
  namespace: "kube-system",
  labels: { "k8s-app": "kube-dns" },
  name: "coredns",
};
const controller: PodRef = {
  namespace: "ingress-nginx",
  labels: { "app.kubernetes.io/name": "ingress-nginx" },
  name: "ingress-nginx-controller",
};
const external = (ip = DEFAULT_EXTERNAL_PROBE_IP): Endpoint => ({ kind: "external", ip });

function policy(namespace: string, name: string, spec: NetworkPolicy["spec"]): NetworkPolicy {
  return { metadata: { name, namespace }, spec };
}

interface BaselineOptions {
  /** How the "same environment" policy names its own environment: the template knob. */
  sameEnvPeer?: (env: Env, namespaceLabels: Labels) => NetworkPolicyPeer;
  /** Labels each app namespace carries besides the automatic name label. */
  namespaceLabels?: (env: Env) => Labels;
}

/**
 * Per namespace, what networkPolicies builds without egress allowances: default deny both ways,
 * same-namespace both ways, DNS out, the ingress controller in. `sameEnvPeer` replaces the
 * same-namespace policy's peer.
 */
function baseline(options: BaselineOptions = {}): World {
  const labelsOf = options.namespaceLabels ?? ((env: Env) => ({ environment: env }));
  const sameEnv = options.sameEnvPeer;
  const withPeer = (spec: NetworkPolicy["spec"], peer: NetworkPolicyPeer) => ({
    ...spec,
    ingress: [{ from: [peer] }],
    egress: [{ to: [peer] }],
  });
  return {
    namespaces: ENVS.map((env) => ({ metadata: { name: ns(env), labels: labelsOf(env) } })),
    policies: ENVS.flatMap((env) =>
      networkPolicies({
        namespace: ns(env),
        ingressNamespaces: [controller.namespace],
        egressCidrs: [],
      }).map(({ role, spec }) =>
        policy(
          ns(env),
          role,
          role === "allow-same-namespace" && sameEnv
            ? withPeer(spec, sameEnv(env, labelsOf(env)))
            : spec,
        ),
      ),
    ),
  };
}

function withPolicies(world: World, ...policies: NetworkPolicy[]): World {
  return { ...world, policies: [...world.policies, ...policies] };
}

/** Replaces (or, returning undefined, removes) the policy `namespace/name`. */
function replacing(
  world: World,
  id: string,
  change: (p: NetworkPolicy) => NetworkPolicy | undefined,
): World {
  let found = false;
  const policies = world.policies.flatMap((p) => {
    if (`${p.metadata.namespace}/${p.metadata.name}` !== id) return [p];
    found = true;
    const next = change(p);
    return next === undefined ? [] : [next];
  });
  assert.ok(found, `no policy ${id}`);
  return { ...world, policies };
}

/** The baseline, with prod's ingress-controller policy admitting `ingress` instead. */
function prodIngress(ingress: readonly NetworkPolicyIngressRule[]): World {
  return replacing(baseline(), "app-prod/allow-ingress-controller", (p) => ({
    ...p,
    spec: { ...p.spec, ingress },
  }));
}

const crossPairs = ENVS.flatMap((a) => ENVS.filter((b) => b !== a).map((b) => [a, b] as const));
const envPods: EnvPod[] = ENVS.map((env) => ({ env, namespace: ns(env), pod: APP }));

const range = (protocol: PortRange["protocol"], from: number, to = from): PortRange => ({
  protocol,
  from,
  to,
});

describe("model/reachability", () => {
  describe("the compliant baseline", () => {
    const world = compileWorld(baseline());

    for (const [a, b] of crossPairs) {
      it(`denies ${a} -> ${b} on every port`, () => {
        const v = canConnect(world, pod(a), pod(b));
        assert.equal(v.allowed, false, v.reason);
        assert.deepEqual(v.ports, []);
        assert.equal(v.egress.isolated, true);
        assert.equal(v.egress.allowed, false);
        assert.equal(v.ingress.allowed, false);
        assert.match(v.reason, /^denied: egress of pod app-\w+\/\w+-web is isolated by /);
      });
    }

    for (const env of ENVS) {
      it(`allows ${env} -> ${env} (two pods of the namespace) on every port`, () => {
        const v = canConnect(world, pod(env), pod(env, { app: "worker" }));
        assert.equal(v.allowed, true, v.reason);
        assert.equal(formatPorts(v.ports), "all ports");
        assert.deepEqual(v.egress.allowedBy, [`${ns(env)}/allow-same-namespace egress[0]`]);
        assert.deepEqual(v.ingress.allowedBy, [`${ns(env)}/allow-same-namespace ingress[0]`]);
        assert.deepEqual(v.egress.isolatedBy, [
          `${ns(env)}/default-deny`,
          `${ns(env)}/allow-same-namespace`,
          `${ns(env)}/allow-dns`,
        ]);
      });
    }

    it("allows DNS to kube-system on UDP and TCP 53, and nothing else there", () => {
      for (const protocol of ["UDP", "TCP"] as const) {
        const v = canConnect(world, pod("prod"), dnsPod, { port: 53, protocol });
        assert.equal(v.allowed, true, v.reason);
        assert.deepEqual(v.egress.allowedBy, ["app-prod/allow-dns egress[0]"]);
        assert.equal(v.ingress.isolated, false, "kube-system has no policy in this world");
      }
      for (const q of [
        { port: 443 },
        { port: 53, protocol: "SCTP" as const },
        { port: 54, protocol: "UDP" as const },
      ]) {
        const v = canConnect(world, pod("prod"), dnsPod, q);
        assert.equal(v.allowed, false, `${q.protocol ?? "TCP"} ${q.port}: ${v.reason}`);
      }
      const any = canConnect(world, pod("dev"), dnsPod);
      assert.deepEqual(any.ports, [range("TCP", 53), range("UDP", 53)]);
      assert.match(any.reason, /^allowed on TCP 53, UDP 53: /);
    });

    it("reaches every kube-system pod on 53 (allow-dns selects the namespace), and none on 443", () => {
      const v = canConnect(
        world,
        pod("dev"),
        { namespace: "kube-system", labels: { app: "metrics" } },
        { port: 53, protocol: "UDP" },
      );
      assert.equal(v.allowed, true);
      assert.equal(
        canConnect(world, pod("dev"), { namespace: "kube-system" }, { port: 443 }).allowed,
        false,
      );
    });

    it("lets the ingress controller in, and nothing back out to it", () => {
      for (const env of ENVS) {
        const v = canConnect(world, controller, pod(env), { port: 8080 });
        assert.equal(v.allowed, true, v.reason);
        assert.equal(v.egress.isolated, false);
        assert.deepEqual(v.ingress.allowedBy, [`${ns(env)}/allow-ingress-controller ingress[0]`]);
        assert.equal(canConnect(world, pod(env), controller).allowed, false);
      }
    });

    it("keeps every environment off the internet without an egress allowance", () => {
      for (const env of ENVS) {
        const v = canReachExternal(world, pod(env));
        assert.equal(v.allowed, false, v.reason);
        assert.equal(v.ingress.governed, false);
      }
    });

    it("gives an isolation matrix with no cross-environment leak", () => {
      const matrix = isolationMatrix(world, envPods);
      assert.equal(matrix.cells.length, 9);
      assert.deepEqual(crossEnvironmentLeaks(matrix), []);
      for (const env of ENVS) assert.equal(matrixCell(matrix, env, env).allowed, true);
      assert.equal(
        formatIsolationMatrix(matrix),
        [
          "can a pod open a connection (any port)",
          "from \\ to  dev    staging  prod   external 203.0.113.10",
          "dev        allow  deny     deny   deny",
          "staging    deny   allow    deny   deny",
          "prod       deny   deny     allow  deny",
        ].join("\n"),
      );
    });

    it("answers the matrix for one port too", () => {
      const matrix = isolationMatrix(world, envPods, { port: { port: 5432 } });
      assert.match(formatIsolationMatrix(matrix), /^can a pod open a connection on TCP 5432\n/);
      assert.deepEqual(matrixCell(matrix, "prod", "prod").ports, [range("TCP", 5432)]);
    });

    it("forces kubernetes.io/metadata.name to the namespace's name, whatever a manifest says", () => {
      // The control plane sets it and refuses other values: a dev namespace cannot claim prod's name.
      const spoofed = baseline({
        namespaceLabels: (env): Labels =>
          env === "dev" ? { [NAMESPACE_NAME_LABEL]: "ingress-nginx" } : {},
      });
      assert.equal(canConnect(spoofed, pod("dev"), pod("prod")).ingress.allowed, false);
      assert.equal(canConnect(spoofed, controller, pod("prod")).allowed, true);
    });
  });

  describe("pitfalls, one change each", () => {
    it("namespaceSelector: {} in the same-namespace template means every namespace: all six directions open", () => {
      const world = baseline({ sameEnvPeer: () => ({ namespaceSelector: {} }) });
      const leaks = crossEnvironmentLeaks(isolationMatrix(world, envPods));
      assert.equal(leaks.length, 6);
      assert.match(
        matrixCell(isolationMatrix(world, envPods), "dev", "prod").reason,
        /allowed by app-dev\/allow-same-namespace egress\[0\]; ingress allowed by app-prod\/allow-same-namespace ingress\[0\]/,
      );
    });

    describe("a selector on a label anyone can set (environment: prod)", () => {
      // The template names its environment by the namespace's `environment` label; a dev namespace
      // relabelled `environment: prod` (the only change) then carries policies that follow it.
      const byEnvironmentLabel = (_env: Env, labels: Labels): NetworkPolicyPeer => ({
        namespaceSelector: { matchLabels: { environment: labels.environment as string } },
      });
      const devClaimsProd = (env: Env) => ({ environment: env === "dev" ? "prod" : env });

      it("isolates while every namespace tells the truth", () => {
        const world = baseline({ sameEnvPeer: byEnvironmentLabel });
        assert.deepEqual(crossEnvironmentLeaks(isolationMatrix(world, envPods)), []);
      });

      it("lets dev into prod (and prod into dev) once dev labels itself prod", () => {
        const world = baseline({ sameEnvPeer: byEnvironmentLabel, namespaceLabels: devClaimsProd });
        const v = canConnect(world, pod("dev"), pod("prod"));
        assert.equal(v.allowed, true, v.reason);
        assert.deepEqual(v.ingress.allowedBy, ["app-prod/allow-same-namespace ingress[0]"]);
        const leaks = crossEnvironmentLeaks(isolationMatrix(world, envPods)).map(
          (c) => `${c.from}->${c.to}`,
        );
        assert.deepEqual(leaks, ["dev->prod", "prod->dev"]);
      });

      it("changes nothing when namespaces are selected by kubernetes.io/metadata.name", () => {
        const world = baseline({
          sameEnvPeer: (env) => ({ namespaceSelector: byName(ns(env)) }),
          namespaceLabels: devClaimsProd,
        });
        assert.deepEqual(crossEnvironmentLeaks(isolationMatrix(world, envPods)), []);
        assert.equal(canConnect(world, pod("dev"), pod("dev", { app: "worker" })).allowed, true);
      });
    });

    describe("namespaceSelector and podSelector: one entry (AND) or two (OR)", () => {
      const debugPod: PodRef = {
        namespace: "ingress-nginx",
        labels: { app: "debug" },
        name: "debug",
      };
      const controllerLabel = { matchLabels: { "app.kubernetes.io/name": "ingress-nginx" } };
      const withPeers = (from: NetworkPolicyPeer[]) => prodIngress([{ from }]);

      it("one entry: only controller pods of ingress-nginx get in", () => {
        const world = withPeers([
          { namespaceSelector: byName("ingress-nginx"), podSelector: controllerLabel },
        ]);
        assert.equal(canConnect(world, controller, pod("prod")).allowed, true);
        assert.equal(canConnect(world, debugPod, pod("prod")).allowed, false);
      });

      it("two entries: every pod of ingress-nginx gets in (the podSelector entry is a second source)", () => {
        const world = withPeers([
          { namespaceSelector: byName("ingress-nginx") },
          { podSelector: controllerLabel },
        ]);
        assert.equal(canConnect(world, controller, pod("prod")).allowed, true);
        const v = canConnect(world, debugPod, pod("prod"));
        assert.equal(v.allowed, true, v.reason);
      });

      it("a podSelector entry alone stays in the policy's namespace", () => {
        const world = withPeers([{ podSelector: controllerLabel }]);
        const impostor: PodRef = {
          namespace: "ingress-nginx-2",
          labels: controller.labels as Labels,
        };
        assert.equal(canConnect(world, impostor, pod("prod")).ingress.allowed, false);
        assert.equal(canConnect(world, controller, pod("prod")).ingress.allowed, false);
        assert.equal(
          canConnect(world, pod("prod", controller.labels as Labels), pod("prod")).ingress.allowed,
          true,
        );
      });
    });

    describe("policyTypes omitted", () => {
      const typeless = (world: World, id: string) =>
        replacing(world, id, (p) => ({ ...p, spec: { podSelector: p.spec.podSelector ?? {} } }));

      it("defaults to Ingress only: a bare default deny leaves egress open", () => {
        // dev keeps nothing but the typeless default deny.
        let world = baseline();
        for (const name of ["allow-same-namespace", "allow-dns", "allow-ingress-controller"]) {
          world = replacing(world, `app-dev/${name}`, () => undefined);
        }
        world = typeless(world, "app-dev/default-deny");
        const out = canReachExternal(world, pod("dev"));
        assert.equal(out.allowed, true, out.reason);
        assert.equal(out.egress.isolated, false);
        assert.equal(
          canConnect(world, pod("dev"), { namespace: "kube-system" }, { port: 443 }).allowed,
          true,
        );
        assert.equal(
          canConnect(world, pod("dev"), pod("prod")).allowed,
          false,
          "prod's ingress still holds",
        );
        assert.equal(
          canConnect(world, pod("prod"), pod("dev")).ingress.allowed,
          false,
          "dev ingress is isolated",
        );
      });

      it("matters less in the baseline only because the allow policies isolate egress themselves", () => {
        const world = typeless(baseline(), "app-dev/default-deny");
        assert.deepEqual(crossEnvironmentLeaks(isolationMatrix(world, envPods)), []);
        const v = canReachExternal(world, pod("dev"));
        assert.equal(v.allowed, false);
        assert.deepEqual(v.egress.isolatedBy, [
          "app-dev/allow-same-namespace",
          "app-dev/allow-dns",
        ]);
      });

      it("egress: [] does not add Egress; one egress rule does, and then isolates egress", () => {
        const only = (spec: NetworkPolicy["spec"]): World => ({
          namespaces: [],
          policies: [policy("app-dev", "p", spec)],
        });
        const empty = canReachExternal(only({ podSelector: {}, egress: [] }), pod("dev"));
        assert.equal(empty.egress.isolated, false);
        assert.equal(empty.allowed, true);
        const oneRule = only({ podSelector: {}, egress: [{ to: [{ podSelector: {} }] }] });
        assert.equal(
          canReachExternal(oneRule, pod("dev")).allowed,
          false,
          "adding an allow rule denied the internet",
        );
        // And the same typeless policy isolates ingress with no ingress rule: even dev -> dev is shut.
        const within = canConnect(oneRule, pod("dev"), pod("dev", { app: "worker" }));
        assert.equal(within.egress.allowed, true);
        assert.equal(within.ingress.allowed, false);
        assert.deepEqual(within.ingress.isolatedBy, ["app-dev/p"]);
      });
    });

    it("only Ingress isolated: namespaces stay apart but every pod can get out", () => {
      // The common "deny all ingress" default, with no egress policy anywhere.
      const world: World = {
        namespaces: baseline().namespaces,
        policies: ENVS.flatMap((env) => [
          policy(ns(env), "default-deny-ingress", { podSelector: {}, policyTypes: ["Ingress"] }),
          policy(ns(env), "allow-same-namespace", {
            podSelector: {},
            policyTypes: ["Ingress"],
            ingress: [{ from: [{ podSelector: {} }] }],
          }),
        ]),
      };
      assert.deepEqual(crossEnvironmentLeaks(isolationMatrix(world, envPods)), []);
      const dev = canConnect(world, pod("dev"), pod("prod"));
      assert.equal(dev.egress.allowed, true);
      assert.equal(dev.egress.isolated, false);
      assert.match(
        dev.reason,
        /^denied: ingress of pod app-prod\/prod-web is isolated by app-prod\/default-deny-ingress, app-prod\/allow-same-namespace/,
      );
      assert.equal(canReachExternal(world, pod("prod")).allowed, true);
      assert.equal(
        canConnect(world, pod("prod"), { namespace: "monitoring" }, { port: 9090 }).allowed,
        true,
      );
    });

    describe("both ends must agree", () => {
      const devEgressToProd = policy("app-dev", "allow-egress-to-prod", {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: [{ namespaceSelector: byName("app-prod") }] }],
      });
      const prodIngressFromDev = policy("app-prod", "allow-ingress-from-dev", {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ namespaceSelector: byName("app-dev") }] }],
      });

      it("egress allowed, ingress not: denied", () => {
        const v = canConnect(withPolicies(baseline(), devEgressToProd), pod("dev"), pod("prod"));
        assert.equal(v.egress.allowed, true);
        assert.deepEqual(v.egress.allowedBy, ["app-dev/allow-egress-to-prod egress[0]"]);
        assert.equal(v.ingress.allowed, false);
        assert.equal(v.allowed, false);
        assert.match(v.reason, /^denied: ingress of pod app-prod\/prod-web is isolated/);
      });

      it("ingress allowed, egress not: denied", () => {
        const v = canConnect(withPolicies(baseline(), prodIngressFromDev), pod("dev"), pod("prod"));
        assert.equal(v.egress.allowed, false);
        assert.equal(v.ingress.allowed, true);
        assert.equal(v.allowed, false);
        assert.match(v.reason, /^denied: egress of pod app-dev\/dev-web/);
      });

      it("both: allowed, in that direction only", () => {
        const world = withPolicies(baseline(), devEgressToProd, prodIngressFromDev);
        assert.equal(canConnect(world, pod("dev"), pod("prod")).allowed, true);
        assert.equal(canConnect(world, pod("prod"), pod("dev")).allowed, false);
        const leaks = crossEnvironmentLeaks(isolationMatrix(world, envPods)).map(
          (c) => `${c.from}->${c.to}`,
        );
        assert.deepEqual(leaks, ["dev->prod"]);
      });

      it("both, but on different ports: denied, no port in common", () => {
        const world = withPolicies(
          baseline(),
          {
            ...devEgressToProd,
            spec: {
              ...devEgressToProd.spec,
              egress: [
                { to: [{ namespaceSelector: byName("app-prod") }], ports: [{ port: 5432 }] },
              ],
            },
          },
          {
            ...prodIngressFromDev,
            spec: {
              ...prodIngressFromDev.spec,
              ingress: [
                { from: [{ namespaceSelector: byName("app-dev") }], ports: [{ port: 80 }] },
              ],
            },
          },
        );
        const v = canConnect(world, pod("dev"), pod("prod"));
        assert.equal(v.egress.allowed, true);
        assert.equal(v.ingress.allowed, true);
        assert.equal(v.allowed, false);
        assert.match(
          v.reason,
          /^denied: no port in common: egress allows TCP 5432 .* ingress allows TCP 80 /,
        );
      });
    });

    describe("0.0.0.0/0 egress", () => {
      const open = (except?: string[]) =>
        withPolicies(
          baseline(),
          policy("app-dev", "allow-internet", {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [
              { to: [{ ipBlock: except ? { cidr: "0.0.0.0/0", except } : { cidr: "0.0.0.0/0" } }] },
            ],
          }),
        );

      it("opens the internet, and every pod's egress side, to dev", () => {
        const world = open();
        assert.equal(canReachExternal(world, pod("dev")).allowed, true);
        assert.equal(canReachExternal(world, pod("staging")).allowed, false);
        const toProd = canConnect(world, pod("dev"), pod("prod"));
        assert.equal(toProd.egress.allowed, true, "0.0.0.0/0 contains every pod IP");
        assert.equal(toProd.allowed, false, "prod's ingress is what still holds");
        assert.match(
          toProd.notes.join("\n"),
          /pod app-prod\/prod-web has no IP; app-dev\/allow-internet egress\[0\] ipBlock 0\.0\.0\.0\/0 was taken to contain it/,
        );
        assert.equal(
          canConnect(world, pod("dev"), { namespace: "kube-system" }, { port: 443 }).allowed,
          true,
        );
      });

      it("with except: pods addressed by IP inside the except stay out of reach", () => {
        const world = open(["10.0.0.0/8"]);
        assert.equal(canReachExternal(world, pod("dev")).allowed, true);
        assert.equal(canReachExternal(world, pod("dev"), { ip: "10.9.9.9" }).allowed, false);
        const inside = canConnect(
          world,
          pod("dev"),
          { namespace: "kube-system", ip: "10.96.0.20" },
          { port: 443 },
        );
        assert.equal(inside.allowed, false);
        const unknown = canConnect(world, pod("dev"), { namespace: "kube-system" }, { port: 443 });
        assert.equal(unknown.allowed, false);
        assert.match(
          unknown.notes.join("\n"),
          /has no IP; .* \(with except\) was taken NOT to contain it/,
        );
      });

      it("IPv6 blocks work the same way", () => {
        const world = withPolicies(
          baseline(),
          policy("app-dev", "allow-v6", {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [
              { to: [{ ipBlock: { cidr: "2001:db8::/32", except: ["2001:db8:ff::/48"] } }] },
            ],
          }),
        );
        assert.equal(canReachExternal(world, pod("dev"), { ip: "2001:db8::1" }).allowed, true);
        assert.equal(canReachExternal(world, pod("dev"), { ip: "2001:db8:ff::1" }).allowed, false);
        assert.equal(canReachExternal(world, pod("dev"), { ip: "2001:db9::1" }).allowed, false);
        assert.equal(
          canReachExternal(world, pod("dev"), { ip: "::ffff:203.0.113.10" }).allowed,
          false,
        );
      });
    });

    describe("ingress: [] versus ingress: [{}]", () => {
      it("ingress: [] allows nothing: the controller is shut out", () => {
        const v = canConnect(prodIngress([]), controller, pod("prod"));
        assert.equal(v.allowed, false, v.reason);
      });

      it("ingress: [{}] allows every source on every port", () => {
        const world = prodIngress([{}]);
        assert.equal(canConnect(world, controller, pod("prod")).allowed, true);
        const fromDev = canConnect(world, pod("dev"), pod("prod"));
        assert.equal(fromDev.ingress.allowed, true);
        assert.equal(fromDev.allowed, false, "dev's egress is what still holds");
        assert.equal(canConnect(world, external("198.51.100.7"), pod("prod")).allowed, true);
      });
    });

    describe("matchExpressions", () => {
      it("In, NotIn, Exists, DoesNotExist, ANDed with matchLabels", () => {
        const labels = { tier: "web", env: "prod" };
        const cases: [LabelSelector, Labels, boolean][] = [
          [
            { matchExpressions: [{ key: "tier", operator: "In", values: ["web", "api"] }] },
            labels,
            true,
          ],
          [{ matchExpressions: [{ key: "tier", operator: "In", values: ["api"] }] }, labels, false],
          [{ matchExpressions: [{ key: "team", operator: "In", values: ["a"] }] }, labels, false],
          [
            { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["web"] }] },
            labels,
            false,
          ],
          [
            { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["api"] }] },
            labels,
            true,
          ],
          [{ matchExpressions: [{ key: "team", operator: "NotIn", values: ["a"] }] }, labels, true],
          [{ matchExpressions: [{ key: "tier", operator: "Exists" }] }, labels, true],
          [{ matchExpressions: [{ key: "team", operator: "Exists" }] }, labels, false],
          [{ matchExpressions: [{ key: "team", operator: "DoesNotExist" }] }, labels, true],
          [
            { matchExpressions: [{ key: "tier", operator: "DoesNotExist", values: [] }] },
            labels,
            false,
          ],
          [
            {
              matchLabels: { env: "prod" },
              matchExpressions: [{ key: "tier", operator: "In", values: ["web"] }],
            },
            labels,
            true,
          ],
          [
            {
              matchLabels: { env: "dev" },
              matchExpressions: [{ key: "tier", operator: "In", values: ["web"] }],
            },
            labels,
            false,
          ],
          [{}, {}, true],
          [{ matchLabels: {} }, labels, true],
        ];
        for (const [selector, l, expected] of cases) {
          assert.equal(matchesSelector(selector, l), expected, JSON.stringify(selector));
        }
      });

      it("a NotIn deny-list on namespaces lets every other namespace in, new ones included", () => {
        const world = prodIngress([
          {
            from: [
              {
                namespaceSelector: {
                  matchExpressions: [
                    { key: NAMESPACE_NAME_LABEL, operator: "NotIn", values: ["app-dev"] },
                  ],
                },
              },
            ],
          },
        ]);
        assert.equal(canConnect(world, pod("dev"), pod("prod")).ingress.allowed, false);
        assert.equal(canConnect(world, pod("staging"), pod("prod")).ingress.allowed, true);
        assert.equal(canConnect(world, { namespace: "scratch-1234" }, pod("prod")).allowed, true);
      });

      it("Exists on a namespace label selects the namespaces that carry it", () => {
        const world = prodIngress([
          {
            from: [
              {
                namespaceSelector: {
                  matchExpressions: [{ key: "environment", operator: "Exists" }],
                },
              },
            ],
          },
        ]);
        assert.equal(canConnect(world, pod("staging"), pod("prod")).ingress.allowed, true);
        assert.equal(canConnect(world, controller, pod("prod")).ingress.allowed, false);
      });
    });
  });

  describe("ports", () => {
    const prodPod = pod("prod", APP, {
      ports: [
        { name: "http", containerPort: 8080 },
        { name: "metrics", containerPort: 9090 },
      ],
    });
    const ingressPorts = (ports: NetworkPolicyPort[]) =>
      prodIngress([{ from: [{ namespaceSelector: byName("ingress-nginx") }], ports }]);

    it("a named port matches the destination's container port of that name", () => {
      const world = ingressPorts([{ port: "http" }]);
      assert.equal(canConnect(world, controller, prodPod, { port: 8080 }).allowed, true);
      assert.equal(canConnect(world, controller, prodPod, { port: 9090 }).allowed, false);
      assert.deepEqual(canConnect(world, controller, prodPod).ports, [range("TCP", 8080)]);
      assert.equal(
        canConnect(world, controller, prodPod, { port: 8080, protocol: "UDP" }).allowed,
        false,
      );
    });

    it("a named port the pod does not declare matches nothing, with a note", () => {
      const v = canConnect(ingressPorts([{ port: "http" }]), controller, pod("prod"));
      assert.equal(v.allowed, false);
      assert.match(
        v.notes.join("\n"),
        /names port "http" \(TCP\), which pod app-prod\/prod-web does not declare/,
      );
    });

    it("endPort makes an inclusive range; protocol defaults to TCP", () => {
      const world = ingressPorts([
        { port: 8000, endPort: 8080 },
        { protocol: "SCTP", port: 9000 },
      ]);
      assert.equal(canConnect(world, controller, prodPod, { port: 8000 }).allowed, true);
      assert.equal(canConnect(world, controller, prodPod, { port: 8080 }).allowed, true);
      assert.equal(canConnect(world, controller, prodPod, { port: 8081 }).allowed, false);
      assert.equal(
        canConnect(world, controller, prodPod, { port: 8040, protocol: "UDP" }).allowed,
        false,
      );
      assert.equal(
        canConnect(world, controller, prodPod, { port: 9000, protocol: "SCTP" }).allowed,
        true,
      );
      assert.equal(
        formatPorts(canConnect(world, controller, prodPod).ports),
        "TCP 8000-8080, SCTP 9000",
      );
    });

    it("an entry without port allows every port of its protocol", () => {
      const world = ingressPorts([{ protocol: "UDP" }]);
      assert.equal(formatPorts(canConnect(world, controller, prodPod).ports), "all UDP ports");
    });
  });

  describe("invalid objects are refused, naming the policy and the field", () => {
    const refuse = (spec: NetworkPolicy["spec"], message: RegExp) =>
      assert.throws(
        () => compileWorld({ namespaces: [], policies: [policy("app-prod", "bad", spec)] }),
        message,
      );

    it("selectors", () => {
      refuse(
        { podSelector: { matchExpressions: [{ key: "a", operator: "In", values: [] }] } },
        /app-prod\/bad: spec\.podSelector\.matchExpressions\[0\]: In needs at least one value/,
      );
      refuse(
        { podSelector: { matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] } },
        /Exists takes no values/,
      );
      refuse(
        {
          podSelector: { matchExpressions: [{ key: "a", operator: "Gt" as "In", values: ["1"] }] },
        },
        /operator must be In, NotIn, Exists or DoesNotExist/,
      );
    });

    it("peers", () => {
      refuse(
        { podSelector: {}, ingress: [{ from: [{}] }] },
        /spec\.ingress\[0\]\.from\[0\]: a peer needs podSelector, namespaceSelector or ipBlock/,
      );
      refuse(
        {
          podSelector: {},
          egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" }, podSelector: {} }] }],
        },
        /spec\.egress\[0\]\.to\[0\]: ipBlock cannot be combined/,
      );
      refuse(
        { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0" } }] }] },
        /ipBlock\.cidr must be a CIDR/,
      );
      refuse(
        { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/33" } }] }] },
        /ipBlock\.cidr must be a CIDR/,
      );
    });

    it("ports and policyTypes", () => {
      refuse(
        { podSelector: {}, ingress: [{ ports: [{ port: "http", endPort: 90 }] }] },
        /endPort cannot be used with a named port/,
      );
      refuse(
        { podSelector: {}, ingress: [{ ports: [{ port: "80" }] }] },
        /port "80" is a string, so a port name; write the number as a number/,
      );
      refuse(
        { podSelector: {}, ingress: [{ ports: [{ port: 80, endPort: 70 }] }] },
        /endPort must be >= port/,
      );
      refuse(
        { podSelector: {}, ingress: [{ ports: [{ port: 0 }] }] },
        /port must be an integer from 1 to 65535/,
      );
      refuse(
        { podSelector: {}, ingress: [{ ports: [{ protocol: "ICMP" as "TCP", port: 1 }] }] },
        /protocol must be TCP, UDP or SCTP/,
      );
      refuse(
        { podSelector: {}, policyTypes: ["ingress" as "Ingress"] },
        /spec\.policyTypes\[0\] must be "Ingress" or "Egress"/,
      );
    });

    it("duplicates", () => {
      assert.throws(
        () =>
          compileWorld({
            namespaces: [],
            policies: [
              policy("a", "p", { podSelector: {} }),
              policy("a", "p", { podSelector: {} }),
            ],
          }),
        /NetworkPolicy a\/p is listed twice/,
      );
      assert.throws(
        () => isolationMatrix(baseline(), [envPods[0] as EnvPod, envPods[0] as EnvPod]),
        /environment dev is listed twice/,
      );
    });
  });

  describe("properties", () => {
    const NAMESPACES = ["a", "b", "c"];
    const podLabels = fc.dictionary(fc.constantFrom("app", "tier"), fc.constantFrom("x", "y"), {
      maxKeys: 2,
    });
    const selector: fc.Arbitrary<LabelSelector> = fc.oneof(
      fc.constant({}),
      podLabels.map((matchLabels) => ({ matchLabels })),
      fc
        .record({
          key: fc.constantFrom("app", "tier", "team"),
          operator: fc.constantFrom("In" as const, "NotIn" as const),
          values: fc.uniqueArray(fc.constantFrom("x", "y", "p"), { minLength: 1, maxLength: 2 }),
        })
        .map((r) => ({ matchExpressions: [r] })),
      fc
        .record({
          key: fc.constantFrom("app", "team"),
          operator: fc.constantFrom("Exists" as const, "DoesNotExist" as const),
        })
        .map((r) => ({ matchExpressions: [r] })),
    );
    const nsSelector: fc.Arbitrary<LabelSelector> = fc.oneof(
      fc.constant({}),
      fc.constantFrom(...NAMESPACES).map((n) => byName(n)),
      fc.constantFrom("p", "q").map((team) => ({ matchLabels: { team } })),
    );
    const peer: fc.Arbitrary<NetworkPolicyPeer> = fc.oneof(
      selector.map((podSelector) => ({ podSelector })),
      nsSelector.map((namespaceSelector) => ({ namespaceSelector })),
      fc
        .tuple(nsSelector, selector)
        .map(([namespaceSelector, podSelector]) => ({ namespaceSelector, podSelector })),
      fc.constantFrom("0.0.0.0/0", "10.0.0.0/8").map((cidr) => ({ ipBlock: { cidr } })),
      fc.constant({ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] } }),
    );
    const port: fc.Arbitrary<NetworkPolicyPort> = fc.constantFrom(
      {},
      { port: 80 },
      { protocol: "UDP" as const, port: 53 },
      { port: "http" },
      { port: 8000, endPort: 8080 },
    );
    const rule = fc.record(
      { peers: fc.array(peer, { maxLength: 2 }), ports: fc.array(port, { maxLength: 2 }) },
      { requiredKeys: [] },
    );
    // What every generated policy has: a namespace, the pods it selects, its policyTypes or none.
    const policyHead = {
      namespace: fc.constantFrom(...NAMESPACES),
      podSelector: selector,
      policyTypes: fc.option(
        fc.constantFrom<("Ingress" | "Egress")[]>(["Ingress"], ["Egress"], ["Ingress", "Egress"]),
        { nil: undefined },
      ),
    };
    const policyArb = (name: string): fc.Arbitrary<NetworkPolicy> =>
      fc
        .record({
          ...policyHead,
          ingress: fc.option(fc.array(rule, { maxLength: 2 }), { nil: undefined }),
          egress: fc.option(fc.array(rule, { maxLength: 2 }), { nil: undefined }),
        })
        .map((r) => ({
          metadata: { name, namespace: r.namespace },
          spec: {
            podSelector: r.podSelector,
            ...(r.policyTypes !== undefined ? { policyTypes: r.policyTypes } : {}),
            ...(r.ingress !== undefined
              ? {
                  ingress: r.ingress.map((x) => ({
                    ...(x.peers ? { from: x.peers } : {}),
                    ...(x.ports ? { ports: x.ports } : {}),
                  })),
                }
              : {}),
            ...(r.egress !== undefined
              ? {
                  egress: r.egress.map((x) => ({
                    ...(x.peers ? { to: x.peers } : {}),
                    ...(x.ports ? { ports: x.ports } : {}),
                  })),
                }
              : {}),
          },
        }));
    const policies = fc
      .integer({ min: 0, max: 5 })
      .chain((n) =>
        n === 0
          ? fc.constant([] as NetworkPolicy[])
          : fc.tuple(...Array.from({ length: n }, (_, i) => policyArb(`p${i}`))),
      );
    const permuted = policies.chain((ps) =>
      fc.tuple(
        fc.constant(ps),
        fc.shuffledSubarray(ps, { minLength: ps.length, maxLength: ps.length }),
      ),
    );
    const namespaces = fc.tuple(
      ...NAMESPACES.map((name) =>
        fc
          .option(fc.constantFrom("p", "q"), { nil: undefined })
          .map((team): Namespace => ({ metadata: { name, labels: team ? { team } : {} } })),
      ),
    );
    const podArb: fc.Arbitrary<PodRef> = fc.record(
      {
        namespace: fc.constantFrom(...NAMESPACES, "elsewhere"),
        labels: podLabels,
        ip: fc.constantFrom("10.1.2.3", "192.168.7.7"),
        ports: fc.constant([{ name: "http", containerPort: 8080 }]),
      },
      { requiredKeys: ["namespace", "labels"] },
    );
    const endpoint: fc.Arbitrary<Endpoint> = fc.oneof(
      { weight: 4, arbitrary: podArb },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom("203.0.113.10", "10.200.0.1")
          .map((ip) => ({ kind: "external" as const, ip })),
      },
    );
    const query: fc.Arbitrary<PortQuery | undefined> = fc.constantFrom(
      undefined,
      { port: 80 },
      { port: 53, protocol: "UDP" as const },
      { port: 8080 },
      { port: 8040 },
      { port: 443 },
    );
    const connection = fc
      .tuple(podArb, endpoint)
      .chain(([a, b]) =>
        fc
          .boolean()
          .map((swap) => (swap && b.kind !== "external" ? ([b, a] as const) : ([a, b] as const))),
      );
    const defaultDenyAll = NAMESPACES.map((n) =>
      policy(n, "default-deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    );
    const covered = (inner: PortRange[], outer: PortRange[]) =>
      inner.every((r) =>
        outer.some((o) => o.protocol === r.protocol && o.from <= r.from && r.to <= o.to),
      );
    /**
     * For any namespaces, policies, one more policy, connection and port: whatever the first world
     * that `worlds` builds allows, the second allows too, on at least the same ports.
     */
    const assertNeverDenies = (
      extra: fc.Arbitrary<NetworkPolicy>,
      worlds: (nss: Namespace[], ps: NetworkPolicy[], extra: NetworkPolicy) => [World, World],
    ) =>
      fc.assert(
        fc.property(namespaces, policies, extra, connection, query, (nss, ps, x, [from, to], q) => {
          const [first, second] = worlds(nss, ps, x);
          const v0 = canConnect(first, from, to, q);
          const v1 = canConnect(second, from, to, q);
          if (v0.allowed) assert.ok(v1.allowed, `${v0.reason}\n-> ${v1.reason}`);
          assert.ok(covered(v0.ports, v1.ports));
        }),
        { numRuns: 400 },
      );

    it("once every pod is isolated both ways, adding a policy never removes a connection (policies are a union)", () => {
      assertNeverDenies(policyArb("added"), (nss, ps, added) => {
        const before: World = { namespaces: nss, policies: [...defaultDenyAll, ...ps] };
        return [before, withPolicies(before, added)];
      });
    });

    it("without that isolation it does not hold: adding an allow policy can deny (a counterexample)", () => {
      const before: World = { namespaces: [], policies: [] };
      const after = withPolicies(
        before,
        policy("a", "allow-from-b", {
          podSelector: {},
          ingress: [{ from: [{ namespaceSelector: byName("b") }] }],
        }),
      );
      assert.equal(canConnect(before, { namespace: "c" }, { namespace: "a" }).allowed, true);
      assert.equal(canConnect(after, { namespace: "c" }, { namespace: "a" }).allowed, false);
    });

    it("removing a policy without rules (a pure deny) never denies more", () => {
      const denyOnly = fc.record(policyHead).map((r): NetworkPolicy =>
        policy(r.namespace, "deny", {
          podSelector: r.podSelector,
          ...(r.policyTypes ? { policyTypes: r.policyTypes } : {}),
        }),
      );
      // With the deny first, without it second.
      assertNeverDenies(denyOnly, (nss, ps, deny) => [
        { namespaces: nss, policies: [...ps, deny] },
        { namespaces: nss, policies: ps },
      ]);
    });

    it("the any-port answer agrees with asking port by port, and policy order never matters", () => {
      fc.assert(
        fc.property(
          namespaces,
          permuted,
          connection,
          query,
          (nss, [ps, shuffled], [from, to], q) => {
            const world: World = { namespaces: nss, policies: ps };
            const any = canConnect(world, from, to);
            for (const r of any.ports) {
              for (const p of [r.from, r.to]) {
                assert.ok(
                  canConnect(world, from, to, { port: p, protocol: r.protocol }).allowed,
                  `${r.protocol} ${p}: ${any.reason}`,
                );
              }
            }
            if (q !== undefined) {
              const one = canConnect(world, from, to, q);
              const inAny = covered(
                [{ protocol: q.protocol ?? "TCP", from: q.port, to: q.port }],
                any.ports,
              );
              assert.equal(one.allowed, inAny, one.reason);
            }
            const again = canConnect({ namespaces: nss, policies: shuffled }, from, to, q);
            const first = canConnect(world, from, to, q);
            assert.equal(again.allowed, first.allowed);
            assert.deepEqual(again.ports, first.ports);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
