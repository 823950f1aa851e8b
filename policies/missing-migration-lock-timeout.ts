import type { EnforcementLevel, ResourceValidationPolicy } from "@pulumi/policy";
import { COMPONENT_LABEL, MIGRATION_COMPONENT } from "../model/workload";
import { isObject, isUnknown, labelsOf } from "../model/resources";
import { podPolicy } from "./lib/podPolicy";
import { T } from "./lib/types";
import { POLICY } from "../model/policyNames";
import { MIGRATION_RUNNER } from "../model/migrations";

export const NAME = POLICY.missingMigrationLockTimeout;
/** Longer than this and every query on a locked table still queues behind the migration for that long. */
export const MAX_LOCK_TIMEOUT_MS = 60_000;

const UNIT_MS: Record<string, number> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** A PostgreSQL duration ("5s", "500ms", "0"; a bare number is milliseconds) in ms, or undefined. */
export function pgDurationMs(text: string): number | undefined {
  const m = /^\s*(\d+)\s*(us|ms|s|min|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * (UNIT_MS[m[2] ?? "ms"] as number);
}

/**
 * Whether a container's command or args run the migration runner; an unknown command or args
 * counts as no (the path goes to `unknown`, so the policy waits instead of passing it).
 */
function runsMigrations(
  container: Record<string, unknown>,
  path: string[],
  unknown: string[][],
): boolean {
  const unknownParts: string[][] = [];
  for (const key of ["command", "args"]) {
    const words = container[key];
    if (isUnknown(words) || (Array.isArray(words) && words.some(isUnknown)))
      unknownParts.push([...path, key]);
    else if (
      Array.isArray(words) &&
      words.some((w) => typeof w === "string" && w.includes(MIGRATION_RUNNER))
    )
      return true;
  }
  unknown.push(...unknownParts);
  return false;
}

export function missingMigrationLockTimeout(
  enforcementLevel: EnforcementLevel = "mandatory",
): ResourceValidationPolicy {
  return podPolicy({
    name: NAME,
    description:
      "Outside dev, a migration Job or CronJob runs with a PostgreSQL lock_timeout of at most one minute.",
    enforcementLevel,
    types: [T.job, T.cronJob],
    applies: (w) => {
      if (w.env === "dev") return false;
      const labels = { ...labelsOf(w.resource.props), ...(w.template ? labelsOf(w.template) : {}) };
      return labels[COMPONENT_LABEL] === MIGRATION_COMPONENT;
    },
    why: 'a migration that waits for a lock makes every query on that table queue behind it, which at production scale stalls the service ("Migration locked tables at scale")',
    fix: (env) =>
      `set lockTimeout in Pulumi.${env}.yaml to a PostgreSQL duration such as 5s (at most 1min; 0 is allowed only in dev)`,
    // components/migration.ts runs migrate.sh as the Job's container. Kubernetes runs a pod's init
    // containers to completion before its containers, so migrate.sh run there is the migration as
    // well; an init container that runs something else (waiting for the database, say) takes no
    // lock. A workload that is not labelled a migration is not read: the program runs its
    // migration once, as a Job that completes before the rollout (not in every replica's pod).
    containers: {
      groups: ["containers", "initContainers"],
      check: (c, pod, unknown) => {
        if (c.group === "initContainers" && !runsMigrations(c.container, c.path, unknown))
          return undefined;
        const env_ = c.container.env;
        if (isUnknown(env_)) {
          unknown.push([...c.path, "env"]);
          return undefined;
        }
        // migrate.sh appends LOCK_TIMEOUT to PGOPTIONS, so LOCK_TIMEOUT wins when both are set.
        let fromLock: number | "invalid" | undefined;
        let fromOptions: number | "invalid" | undefined;
        let unknownValue = false;
        for (const [i, e] of (Array.isArray(env_) ? env_ : []).entries()) {
          if (!isObject(e) || (e.name !== "LOCK_TIMEOUT" && e.name !== "PGOPTIONS")) continue;
          const value = e.value;
          if (isUnknown(value)) {
            unknown.push([...c.path, "env", String(i), "value"]);
            unknownValue = true;
            continue;
          }
          if (typeof value !== "string") continue;
          if (e.name === "LOCK_TIMEOUT") fromLock = pgDurationMs(value) ?? "invalid";
          else {
            const m = /lock_timeout\s*=\s*(\S+)/.exec(value);
            if (m) fromOptions = pgDurationMs(m[1] as string) ?? "invalid";
          }
        }
        const timeout = fromLock ?? fromOptions;
        if (unknownValue && timeout === undefined) return undefined;
        const problem =
          timeout === undefined
            ? "sets no lock_timeout (LOCK_TIMEOUT or PGOPTIONS -c lock_timeout=...)"
            : timeout === "invalid"
              ? "sets a lock_timeout that is not a PostgreSQL duration"
              : timeout === 0
                ? "disables lock_timeout (0)"
                : timeout > MAX_LOCK_TIMEOUT_MS
                  ? "sets a lock_timeout longer than one minute"
                  : undefined;
        return problem === undefined
          ? undefined
          : `migration container ${c.name} ${problem} in ${pod.env}`;
      },
    },
  });
}
