/**
 * The smoke contract (docs/smoke.md, "The contract") as data. A check is plain JSON so that it can be
 * a dynamic-resource input (a change to the checks re-runs them), a file given to the CLI
 * (`--checks FILE`), and a value Pulumi's closure serializer copies into the provider.
 */

/** A JSON scalar a check may compare a response field with. */
export type JsonScalar = string | number | boolean | null;

export interface CheckSpec {
  /** Unique within a run; the name the report and the outputs use. */
  name: string;
  method: "GET" | "HEAD" | "POST";
  /** Appended to the base URL as it is, like the seed script's `$URL/healthz`. */
  path: string;
  /** A JSON request body, sent with `content-type: application/json`. */
  body?: string;
  /**
   * A field of the JSON response that must be present and not null (a dot path: `version`,
   * `db.connected`). Without it, any 2xx passes and the body is not read as JSON.
   */
  field?: string;
  /** The value `field` must equal. */
  equals?: JsonScalar;
  /**
   * This check reports the release: `field` must be a non-empty string, it is the run's verified
   * version, and it must equal the expected version when one is given. A different version is
   * taken for an older release still answering and is retried until the deadline.
   */
  version?: boolean;
}

/** The four checks of the smoke contract, in the seed script's order. */
export const CONTRACT_CHECKS: readonly CheckSpec[] = [
  { name: "health", method: "GET", path: "/healthz" },
  { name: "version", method: "GET", path: "/api/version", field: "version", version: true },
  { name: "database", method: "GET", path: "/api/db-status", field: "connected", equals: true },
  {
    name: "critical-action",
    method: "POST",
    path: "/api/test-action",
    body: '{"test": true}',
    field: "success",
    equals: true,
  },
];

/**
 * `count` checks cycling through `base`: the contract's endpoints requested `count` times in all,
 * with names made unique (`health`, ..., `health#2`, ...). Only the first copy of the version
 * check reports the version. Used to measure how a run grows with the number of checks.
 */
export function repeatChecks(base: readonly CheckSpec[], count: number): CheckSpec[] {
  const out: CheckSpec[] = [];
  for (let i = 0; i < count && base.length > 0; i++) {
    const spec = base[i % base.length] as CheckSpec;
    const round = Math.floor(i / base.length) + 1;
    const copy: CheckSpec = { ...spec, name: round === 1 ? spec.name : `${spec.name}#${round}` };
    if (round > 1) delete copy.version;
    out.push(copy);
  }
  return out;
}

/** What a check expects, in words, for reports: "2xx with JSON .connected == true". */
export function describeExpectation(spec: CheckSpec, expectVersion: string | undefined): string {
  if (spec.field === undefined) return "2xx";
  if (spec.version === true) {
    return expectVersion === undefined
      ? `2xx with JSON .${spec.field} (a non-empty string)`
      : `2xx with JSON .${spec.field} == ${JSON.stringify(expectVersion)}`;
  }
  if (spec.equals !== undefined) {
    return `2xx with JSON .${spec.field} == ${JSON.stringify(spec.equals)}`;
  }
  return `2xx with JSON .${spec.field}`;
}
