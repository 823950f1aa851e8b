/**
 * How the NetworkPolicy evaluator scales: compiling a world, one query, and a whole isolation
 * matrix, for growing numbers of namespaces and policies. Prints a table; asserts nothing.
 *
 *   npx ts-node --transpile-only bench/reachability.bench.ts
 *
 * Each namespace gets the program's four baseline policies plus `extra` label-selected ones (an
 * app-to-db rule with ports, a monitoring scrape rule), so selectors, ports and namespace lookups
 * are all exercised; the matrix asks every ordered pair of `envs` namespaces plus the outside.
 */
import { performance } from "node:perf_hooks";
import { networkPolicies } from "../model/network";
import { canConnect } from "../model/reachability/connect";
import { compileWorld } from "../model/reachability/compile";
import { type EnvPod, isolationMatrix } from "../model/reachability/matrix";
import type { NetworkPolicy, World } from "../model/reachability/types";

function makeWorld(namespaces: number, extra: number): World {
  const names = Array.from({ length: namespaces }, (_, i) => `ns-${i}`);
  const policies: NetworkPolicy[] = names.flatMap((namespace) => {
    // The program's own baseline policies, exactly as the components create them.
    const base: NetworkPolicy[] = networkPolicies({ namespace, ingressNamespaces: ["ingress-nginx"], egressCidrs: [] }).map(
      (p) => ({ metadata: { name: p.role, namespace }, spec: p.spec }),
    );
    const more: NetworkPolicy[] = Array.from({ length: extra }, (_, k) => ({
      metadata: { name: `extra-${k}`, namespace },
      spec: {
        podSelector: { matchLabels: { app: k % 2 === 0 ? "db" : "web" } },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              {
                podSelector: {
                  matchExpressions: [{ key: "tier", operator: "In", values: ["api", "web"] }],
                },
              },
              { namespaceSelector: { matchLabels: { team: "monitoring" } }, podSelector: {} },
            ],
            ports: [{ port: 5432 }, { port: 9000, endPort: 9100 }, { port: "metrics" }],
          },
        ],
      },
    }));
    return [...base, ...more];
  });
  return {
    namespaces: names.map((name, i) => ({
      metadata: { name, labels: { team: i % 5 === 0 ? "monitoring" : "app" } },
    })),
    policies,
  };
}

function time(runs: number, fn: () => unknown): number {
  fn(); // warm-up
  const start = performance.now();
  for (let i = 0; i < runs; i++) fn();
  return (performance.now() - start) / runs;
}

const rows: string[][] = [
  ["namespaces", "policies", "compile ms", "query µs", "3x3 matrix ms", "10x10 matrix ms"],
];
for (const [namespaces, extra] of [
  [3, 0],
  [3, 10],
  [30, 10],
  [300, 10],
  [300, 50],
] as const) {
  const world = makeWorld(namespaces, extra);
  const compiled = compileWorld(world);
  const envs = (n: number): EnvPod[] =>
    Array.from({ length: Math.min(n, namespaces) }, (_, i) => ({
      env: `env-${i}`,
      namespace: `ns-${i}`,
      pod: { app: "db", tier: "api" },
      ports: [{ name: "metrics", containerPort: 9090 }],
    }));
  const from = { namespace: "ns-0", labels: { app: "web", tier: "web" } };
  const to = { namespace: `ns-${namespaces - 1}`, labels: { app: "db" } };
  rows.push([
    String(namespaces),
    String(world.policies.length),
    time(5, () => compileWorld(world)).toFixed(2),
    (time(2000, () => canConnect(compiled, from, to)) * 1000).toFixed(1),
    time(20, () => isolationMatrix(compiled, envs(3))).toFixed(2),
    time(5, () => isolationMatrix(compiled, envs(10))).toFixed(2),
  ]);
}
const widths = (rows[0] as string[]).map((_, i) =>
  Math.max(...rows.map((r) => (r[i] as string).length)),
);
for (const row of rows) console.log(row.map((c, i) => c.padStart(widths[i] as number)).join("  "));
