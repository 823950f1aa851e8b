/**
 * The program's own NetworkPolicies (model/network.ts, what the components create), evaluated
 * under Kubernetes semantics by model/reachability/: the environments cannot reach each other.
 */
import assert from "node:assert/strict";
import { ENVIRONMENTS } from "../../model/environment";
import { networkPolicies } from "../../model/network";
import { canConnect } from "../../model/reachability/connect";
import {
  crossEnvironmentLeaks,
  isolationMatrix,
  matrixCell,
} from "../../model/reachability/matrix";
import { World } from "../../model/reachability/types";

function world(egressCidrs: Record<string, string[]> = {}): World {
  return {
    namespaces: [...ENVIRONMENTS.map((e) => `app-${e}`), "kube-system", "ingress-nginx"].map((name) => ({ metadata: { name } })),
    policies: ENVIRONMENTS.flatMap((env) =>
      networkPolicies({ namespace: `app-${env}`, ingressNamespaces: ["ingress-nginx"], egressCidrs: egressCidrs[env] ?? [] }).map(
        (p) => ({ metadata: { name: p.role, namespace: `app-${env}` }, spec: p.spec }),
      ),
    ),
  };
}

const app = { "app.kubernetes.io/name": "app" };
const pods = ENVIRONMENTS.map((env) => ({ env, namespace: `app-${env}`, pod: app }));

describe("model/network evaluated by model/reachability", () => {
  it("denies all six cross-environment directions and allows traffic inside each", () => {
    const m = isolationMatrix(world({ dev: ["0.0.0.0/0"] }), pods);
    assert.deepEqual(crossEnvironmentLeaks(m), []);
    for (const env of ENVIRONMENTS) assert.equal(matrixCell(m, env, env).allowed, true, env);
    assert.equal(m.cells.length, 9);
  });

  it("lets only dev out to the internet, with the repo's egress allowances", () => {
    const m = isolationMatrix(world({ dev: ["0.0.0.0/0"] }), pods);
    const out = Object.fromEntries(m.external.map((e) => [e.env, e.verdict.allowed]));
    assert.deepEqual(out, { dev: true, staging: false, prod: false });
  });

  it("lets the ingress controller in, and DNS out on port 53 only", () => {
    const w = world();
    const prod = { namespace: "app-prod", labels: app };
    assert.equal(canConnect(w, { namespace: "ingress-nginx", labels: {} }, prod, { port: 8080 }).allowed, true);
    const dns = { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } };
    assert.equal(canConnect(w, prod, dns, { port: 53, protocol: "UDP" }).allowed, true);
    assert.equal(canConnect(w, prod, dns, { port: 53, protocol: "TCP" }).allowed, true);
    assert.equal(canConnect(w, prod, dns, { port: 443 }).allowed, false);
  });

  it("keeps dev out of prod even when dev's namespace labels itself as prod", () => {
    const w = world();
    const forged: World = {
      ...w,
      namespaces: w.namespaces.map((n) =>
        n.metadata.name === "app-dev" ? { metadata: { name: "app-dev", labels: { "env-progression/environment": "prod" } } } : n,
      ),
    };
    const verdict = canConnect(forged, { namespace: "app-dev", labels: app }, { namespace: "app-prod", labels: app });
    assert.equal(verdict.allowed, false, verdict.reason);
  });
});
