/**
 * The two matrices verify prints: parity (one row per item, one column per environment, each
 * difference with the environment below marked allowed, with its reason, or forbidden) and
 * isolation (every ordered pair of environments, from all stacks' NetworkPolicies, under
 * Kubernetes semantics: model/reachability.ts).
 */
import { type EnvName } from "../../model/environment";
import {
  compareParity,
  itemLabel,
  itemOrder,
  type ParityComparison,
  type ParityDocument,
  type ParityException,
  type ParityStatus,
  parityFromResources,
  parseParityExceptions,
  PARITY_EXCEPTIONS_KEY,
  todayUtc,
} from "../../model/parity";
import { PROJECT } from "../../model/config";
import {
  compileWorld,
  crossEnvironmentLeaks,
  type EnvPod,
  isolationMatrix,
  type Matrix,
  type Namespace,
  type NetworkPolicy,
} from "../../model/reachability";
import {
  containersOf,
  isObject,
  kindOf,
  labelsOf,
  metadataField,
  podSpecOf,
  UNKNOWN,
} from "../../model/resources";
import { environmentNamespaces, toNetworkPolicy } from "../../policies/lib/network";
import type { StackRun } from "./stacks";

export type CellStatus = ParityStatus | "baseline" | "absent" | "not checked";

export interface ParityCell {
  display: string;
  status: CellStatus;
  reason?: string;
}

export interface ParityRow {
  id: string;
  label: string;
  kind: string;
  cells: Record<string, ParityCell>;
}

export interface ParityMatrix {
  environments: EnvName[];
  rows: ParityRow[];
  /** Exceptions per environment that matched no forbidden difference. */
  unusedExceptions: Record<string, ParityException[]>;
  /** Exception config problems per environment (the pack reports them as violations too). */
  exceptionErrors: Record<string, string[]>;
}

/** Parity exceptions of a stack, from its config as the engine passes it. */
export function stackExceptions(run: StackRun): {
  exceptions: ParityException[];
  errors: string[];
} {
  return parseParityExceptions(run.plainConfig[`${PROJECT}:${PARITY_EXCEPTIONS_KEY}`]);
}

/**
 * Each environment's side as the policy reads it from the resources, compared with the baseline of
 * the environment below under the stack's exceptions. `secretsChecked[env]` says whether the
 * secret values of env and the one below were real (decrypted or given), not stand-ins.
 */
export function parityMatrix(
  runs: readonly StackRun[],
  secretsChecked: Record<string, boolean>,
  today = todayUtc(),
): ParityMatrix {
  const environments = runs.map((r) => r.stack);
  const rows = new Map<string, ParityRow>();
  const row = (id: string, kind: string) => {
    let r = rows.get(id);
    if (r === undefined) {
      r = { id, label: itemLabel(id), kind, cells: {} };
      rows.set(id, r);
    }
    return r;
  };
  const unusedExceptions: Record<string, ParityException[]> = {};
  const exceptionErrors: Record<string, string[]> = {};
  runs.forEach((run, i) => {
    const lower: ParityDocument | undefined =
      i > 0 ? (runs[i - 1] as StackRun).baseline : undefined;
    const current = parityFromResources(run.resources, {
      environment: run.stack,
      ...(lower?.secrets ? { fingerprint: lower.secrets.params } : {}),
    }).document;
    if (lower === undefined) {
      for (const [id, e] of Object.entries(current.items)) {
        if (!id.endsWith(":*"))
          row(id, "").cells[run.stack] = { display: e.display, status: "baseline" };
      }
      row("secretValues", "must-differ").cells[run.stack] = {
        display: `${run.baseline.secrets?.values.length ?? 0} fingerprinted`,
        status: "baseline",
      };
      return;
    }
    const { exceptions, errors } = stackExceptions(run);
    exceptionErrors[run.stack] = errors;
    const result = compareParity(lower, current, exceptions, today);
    unusedExceptions[run.stack] = result.unusedExceptions;
    for (const c of result.items) {
      const r = row(c.id, c.kind);
      r.kind = c.kind;
      r.cells[run.stack] = cellOf(c);
      if (c.id === "secretValues" && !secretsChecked[run.stack]) {
        r.cells[run.stack] = {
          display: c.current?.display ?? "",
          status: "not checked",
          reason: "stand-in secret values: equality with lower environments not checked",
        };
      }
    }
  });
  for (const r of rows.values()) {
    for (const env of environments) r.cells[env] ??= { display: "–", status: "absent" };
  }
  const sorted = [...rows.values()].sort(
    (a, b) => itemOrder(a.id) - itemOrder(b.id) || a.id.localeCompare(b.id),
  );
  return { environments, rows: sorted, unusedExceptions, exceptionErrors };
}

function cellOf(c: ParityComparison): ParityCell {
  return {
    display: c.current?.display ?? "–",
    status: c.status,
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
  };
}

export interface IsolationResult {
  matrix: Matrix;
  /** Cross-environment directions that are allowed: each one a failure. */
  leaks: { from: string; to: string; reason: string }[];
  /** Environments whose own pods cannot reach each other: the app would not work. */
  brokenInside: string[];
}

/** The isolation matrix over every evaluated stack's Namespaces and NetworkPolicies. */
export function isolation(runs: readonly StackRun[]): IsolationResult {
  const namespaces: Namespace[] = [];
  const policies: NetworkPolicy[] = [];
  const pods: EnvPod[] = [];
  for (const run of runs) {
    for (const ns of environmentNamespaces(run.resources))
      namespaces.push({ metadata: { name: ns.name, labels: ns.labels } });
    for (const r of run.resources) {
      if (kindOf(r.type) !== "NetworkPolicy") continue;
      const p = toNetworkPolicy(r);
      if (p) policies.push(p);
    }
    const own = environmentNamespaces(run.resources).find((n) => n.env === run.stack);
    const deployment = run.resources.find(
      (r) => kindOf(r.type) === "Deployment" && metadataField(r.props, "namespace") === own?.name,
    );
    const pod = deployment ? podSpecOf(deployment) : undefined;
    const ports =
      pod && pod.spec !== UNKNOWN
        ? containersOf(pod.spec, pod.path).flatMap((c) =>
            (Array.isArray(c.container.ports) ? c.container.ports : [])
              .filter(isObject)
              .map((p) => ({
                ...(typeof p.name === "string" ? { name: p.name } : {}),
                containerPort: Number(p.containerPort),
                ...(typeof p.protocol === "string" ? { protocol: p.protocol as "TCP" } : {}),
              })),
          )
        : [];
    pods.push({
      env: run.stack,
      namespace: own?.name ?? `${PROJECT}-${run.stack}`,
      pod: pod?.template ? labelsOf(pod.template) : {},
      ports,
    });
  }
  const matrix = isolationMatrix(compileWorld({ namespaces, policies }), pods);
  return {
    matrix,
    leaks: crossEnvironmentLeaks(matrix).map((c) => ({
      from: c.from,
      to: c.to,
      reason: c.verdict.reason,
    })),
    brokenInside: matrix.cells
      .filter((c) => c.from === c.to && !c.verdict.allowed)
      .map((c) => c.from),
  };
}
