/**
 * The two matrices verify prints: parity (one row per item, one column per environment, each
 * difference with the environment below marked allowed, with its reason, or forbidden) and
 * isolation (every ordered pair of environments, from all stacks' NetworkPolicies, under
 * Kubernetes semantics: model/reachability.ts).
 */
import { type EnvName } from "../../model/environment";
import {
  compareParity,
  compareSecrets,
  type ParityComparison,
  type ParityStatus,
} from "../../model/parity/compare";
import { itemLabel, itemOrder, itemReason } from "../../model/parity/items";
import type { ParityDocument } from "../../model/parity/document";
import {
  type ParityException,
  parseParityExceptions,
  PARITY_EXCEPTIONS_KEY,
  todayUtc,
} from "../../model/parity/exceptions";
import { parityFromResources } from "../../model/parity/fromResources";
import { fingerprintSecrets } from "../../model/secrets/fingerprints";
import { secretValuesOf } from "../../model/secrets/values";
import { PROJECT } from "../../model/config/environmentConfig";
import { compileWorld } from "../../model/reachability/compile";
import {
  crossEnvironmentLeaks,
  type EnvPod,
  isolationMatrix,
  type Matrix,
} from "../../model/reachability/matrix";
import type { Namespace, NetworkPolicy } from "../../model/reachability/types";
import {
  containersOf,
  isObject,
  kindOf,
  labelsOf,
  metadataField,
  podSpecOf,
  UNKNOWN,
} from "../../model/resources";
import { urnType } from "../../model/urn";
import { POLICY } from "../../model/policyNames";
import { environmentNamespaces, toNetworkPolicy } from "../../model/reachability/fromResources";
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
 * A stack's own secret values, each once, named by where it is: its secret config (what its
 * `parityBaseline` fingerprints: `config dbPassword`) and its Secret resources' values (what
 * disallow-lower-environment-secrets reads: `Secret app-db/password`). The values stay here.
 */
function ownSecretValues(run: StackRun): { source: string; value: string }[] {
  const sources = new Map<string, string[]>();
  const add = (value: string, source: string) => {
    if (value === "") return;
    sources.set(value, [...(sources.get(value) ?? []), source]);
  };
  for (const [full, value] of Object.entries(run.secrets.values))
    add(value, `config ${full.slice(full.indexOf(":") + 1)}`);
  for (const r of run.resources) {
    const name = metadataField(r.props, "name");
    for (const v of secretValuesOf(r))
      add(v.value, `Secret ${typeof name === "string" ? name : r.name}/${v.key}`);
  }
  return [...sources].map(([value, [first, ...rest]]) => ({
    source: rest.length > 0 ? `${first} (also ${rest.join(", ")})` : (first as string),
    value,
  }));
}

/**
 * The secretValues cell of a stack: its own secret values compared with every lower
 * environment's fingerprints, as disallow-lower-environment-secrets compares them with every
 * lower baseline (a prod that reuses dev's password is as wrong as one that reuses staging's).
 * Counted the same way in every column: the stack's distinct secret values.
 */
export function secretValuesCell(run: StackRun, lowers: readonly ParityDocument[]): ParityCell {
  const own = ownSecretValues(run);
  const display = `${own.length} fingerprinted`;
  const compared = lowers.filter((l) => l.secrets !== undefined);
  if (compared.length === 0) return { display, status: "baseline" };
  const results = compared.map((lower) => {
    const params = (lower.secrets as NonNullable<ParityDocument["secrets"]>).params;
    return {
      lower: lower.environment,
      c: compareSecrets(lower, { ...run.baseline, secrets: fingerprintSecrets(own, params) }),
    };
  });
  const forbidden = results.filter((x) => x.c.status === "forbidden");
  if (forbidden.length > 0)
    return { display, status: "forbidden", reason: forbidden.map((x) => x.c.reason).join("; ") };
  const unknown = results.filter((x) => x.c.status === "unknown");
  if (unknown.length > 0)
    return {
      display,
      status: "unknown",
      reason: unknown.map((x) => `compared with ${x.lower}: ${x.c.reason}`).join("; "),
    };
  return {
    display,
    status: "allowed",
    reason: `${itemReason("secretValues") ?? ""}; none is ${compared.map((l) => `${l.environment}'s`).join(" or ")}`,
  };
}

/**
 * Each environment's side as the policy reads it from the resources, compared with the baseline of
 * the environment below under the stack's exceptions; its secret values with those of every
 * environment below. `secretsChecked[env]` says whether the secret values of env and those below
 * were real (decrypted or given), not stand-ins.
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
    // Without fingerprints: the secretValues cell compares with every lower stack, below.
    const current = parityFromResources(run.resources, { environment: run.stack }).document;
    if (lower === undefined) {
      for (const [id, e] of Object.entries(current.items)) {
        if (!id.endsWith(":*"))
          row(id, "").cells[run.stack] = { display: e.display, status: "baseline" };
      }
      row("secretValues", "must-differ").cells[run.stack] = secretValuesCell(run, []);
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
    }
    const lowers = runs
      .slice(0, i)
      .map((x) => x.baseline)
      .reverse();
    if (lowers.some((l) => l.secrets !== undefined)) {
      // Stand-ins are not compared (their fingerprints would prove nothing); they are counted.
      row("secretValues", "must-differ").cells[run.stack] = secretsChecked[run.stack]
        ? secretValuesCell(run, lowers)
        : {
            display: secretValuesCell(run, []).display,
            status: "not checked",
            reason: "stand-in secret values: equality with lower environments not checked",
          };
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

/** The policy whose findings the secretValues row takes in: see withPlainTextSecretFindings. */
const LOWER_SECRETS_POLICY = POLICY.disallowLowerEnvironmentSecrets;

/**
 * The secretValues row compares each stack's own secrets (config, Secrets) with the lower ones. A
 * lower environment's secret copied into plain text (an env value, a ConfigMap, an annotation, a
 * command) is found only by disallow-lower-environment-secrets, which reads every plain string:
 * its findings on Kubernetes resources other than Secrets mark the cell forbidden too, so that the
 * matrix agrees with the violation list. The reason names resources, never a value.
 */
export function withPlainTextSecretFindings(
  matrix: ParityMatrix,
  violations: readonly { stack: string; policy: string; urn: string; resource: string }[],
): ParityMatrix {
  const row = matrix.rows.find((r) => r.id === "secretValues");
  if (row === undefined) return matrix;
  for (const env of matrix.environments) {
    const where = [
      ...new Set(
        violations
          .filter((v) => v.stack === env && v.policy === LOWER_SECRETS_POLICY)
          .filter((v) => {
            const type = urnType(v.urn);
            return type.startsWith("kubernetes:") && kindOf(type) !== "Secret";
          })
          .map((v) => v.resource),
      ),
    ];
    const cell = row.cells[env];
    if (where.length === 0 || cell === undefined) continue;
    const plain = `a lower environment's secret is copied into plain text in ${where.join(", ")} (${LOWER_SECRETS_POLICY})`;
    row.cells[env] = {
      display: `${cell.display}, ${where.length} in plain text`,
      status: "forbidden",
      reason: cell.status === "forbidden" && cell.reason ? `${cell.reason}; ${plain}` : plain,
    };
  }
  return matrix;
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
