/**
 * Are the environments isolated from each other? For every ordered pair of environments, whether a
 * pod of one can open a connection to a pod of the other, and whether each can reach outside the
 * cluster: the matrix `verify` prints and the cross-environment checks read.
 */
import { type CompiledWorld, compileWorld } from "./compile";
import { canConnect } from "./connect";
import {
  type ContainerPort,
  DEFAULT_EXTERNAL_PROBE_IP,
  type Labels,
  type PodRef,
  type PortQuery,
  type Verdict,
  type World,
} from "./types";

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
