/**
 * missing-migration-lock-timeout: outside dev, the container of a migration Job or CronJob, and
 * an init container of one that runs migrate.sh, runs with a PostgreSQL lock_timeout of at most
 * one minute, from LOCK_TIMEOUT or else PGOPTIONS. Dev, other components, other kinds and an init
 * container that runs something else are left alone. (The baseline's init container is a copy of
 * the migration container: it runs migrate.sh, with LOCK_TIMEOUT.)
 */
import { COMPONENT_LABEL, ENVIRONMENT_LABEL } from "../../../model/workload";
import { NAME } from "../../../policies/missing-migration-lock-timeout";
import { UNKNOWN_STRING } from "../support";
import { ALL_KINDS, type Change, describePodPolicy, failing } from "./workloads";

/* eslint-disable @typescript-eslint/no-explicit-any */
const envOf = (s: any): any[] => s.containers[0].env;
const withoutLockTimeout = (s: any) =>
  (s.containers[0].env = envOf(s).filter((e) => e.name !== "LOCK_TIMEOUT"));
const lockTimeout = (value: string) => (s: any) => {
  const e = envOf(s).find((x) => x.name === "LOCK_TIMEOUT");
  if (e === undefined) throw new Error("the migration container sets no LOCK_TIMEOUT");
  e.value = value;
};
const pgOptions = (value: string) => (s: any) => envOf(s).push({ name: "PGOPTIONS", value });
const both =
  (...changes: Change[]) =>
  (s: any, t: any) =>
    changes.forEach((c) => c(s, t));
const label = (key: string, value: string) => (_s: any, t: any) => (t.metadata.labels[key] = value);
const initWithoutEnv = (s: any) => (s.initContainers[0].env = []);
/** The init container waits for the database instead of running migrate.sh. */
const initWaits = (s: any) => (s.initContainers[0].command = ["pg_isready", "--timeout=60"]);

describePodPolicy({
  policy: NAME,
  source: "-migration-job",
  kinds: ["Job", "CronJob"],
  eachKind: {
    title: "a migration container without LOCK_TIMEOUT fails",
    change: withoutLockTimeout,
    expect: [
      /migration container migrate sets no lock_timeout \(LOCK_TIMEOUT or PGOPTIONS -c lock_timeout=\.\.\.\) in prod: a migration that waits for a lock.*\. Fix: set lockTimeout in Pulumi\.prod\.yaml/,
    ],
  },
  rules: [
    {
      title: "lock_timeout 0 (disabled)",
      case: { id: "lock-timeout-zero", kind: "Job", change: lockTimeout("0") },
      expect: [/migration container migrate disables lock_timeout \(0\) in prod/],
    },
    {
      title: "lock_timeout longer than one minute",
      case: { id: "lock-timeout-long", kind: "Job", change: lockTimeout("2min") },
      expect: [/migration container migrate sets a lock_timeout longer than one minute/],
      value: "2min",
    },
    {
      title: "lock_timeout that is not a PostgreSQL duration",
      case: { id: "lock-timeout-invalid", kind: "Job", change: lockTimeout("soon") },
      expect: [/migration container migrate sets a lock_timeout that is not a PostgreSQL duration/],
      value: "soon",
    },
    {
      title: "PGOPTIONS that disables lock_timeout, without LOCK_TIMEOUT",
      case: {
        id: "pgoptions-zero",
        kind: "Job",
        change: both(withoutLockTimeout, pgOptions("-c lock_timeout=0")),
      },
      expect: [/migration container migrate disables lock_timeout \(0\)/],
    },
    {
      title: "lock_timeout 0 in a CronJob's job template",
      case: { id: "cronjob-lock-timeout-zero", kind: "CronJob", change: lockTimeout("0") },
      expect: [/migration container migrate disables lock_timeout \(0\) in prod/],
    },
    {
      title: "no LOCK_TIMEOUT on a Job labelled dev in prod's stack",
      case: {
        id: "dev-label-in-prod",
        kind: "Job",
        change: both(label(ENVIRONMENT_LABEL, "dev"), withoutLockTimeout),
      },
      expect: [/migration container migrate sets no lock_timeout .* in prod/],
    },
    // Kubernetes runs init containers to completion before the containers: migrate.sh there is
    // the migration too.
    failing("init-migrates-without-lock-timeout", initWithoutEnv, "Job").finds(
      /migration container init sets no lock_timeout .* in prod/,
    ),
    failing("cronjob-init-migrates-without-lock-timeout", initWithoutEnv, "CronJob").finds(
      /migration container init sets no lock_timeout .* in prod/,
    ),
    failing(
      "init-migrates-lock-timeout-long",
      (s) => (s.initContainers[0].env = [{ name: "LOCK_TIMEOUT", value: "5min" }]),
      "Job",
    ).finds(/migration container init sets a lock_timeout longer than one minute in prod/, "5min"),
    failing(
      "init-migrates-by-args",
      both(
        (s) => (s.initContainers[0].command = ["sh"]),
        (s) => (s.initContainers[0].args = ["/migrations/migrate.sh"]),
        initWithoutEnv,
      ),
      "Job",
    ).finds(/migration container init sets no lock_timeout .* in prod/),
  ],
  allowed: [
    {
      title: "lock_timeout from PGOPTIONS",
      case: {
        id: "pgoptions-five-seconds",
        kind: "CronJob",
        change: both(withoutLockTimeout, pgOptions("-c lock_timeout=5s")),
      },
    },
    {
      title: "LOCK_TIMEOUT over PGOPTIONS (migrate.sh appends it)",
      case: { id: "lock-timeout-wins", kind: "Job", change: pgOptions("-c lock_timeout=0") },
    },
    {
      title: "an init container that does not run migrate.sh, without LOCK_TIMEOUT",
      case: {
        id: "init-waits-for-database",
        kind: "CronJob",
        change: both(initWaits, initWithoutEnv),
      },
    },
    {
      title: "lock_timeout 0 in dev",
      case: { id: "dev-lock-timeout-zero", kind: "Job", stack: "dev", change: lockTimeout("0") },
    },
    {
      title: "a Job of another component",
      case: {
        id: "other-component",
        kind: "Job",
        change: both(label(COMPONENT_LABEL, "report"), withoutLockTimeout),
      },
    },
    {
      title: "a Job of another component whose init container runs migrate.sh",
      case: {
        id: "other-component-init",
        kind: "Job",
        change: both(label(COMPONENT_LABEL, "report"), initWithoutEnv),
      },
    },
    // The program's migration is a Job that completes before the rollout, never a workload's
    // init container (which every replica would run again at each start).
    ...ALL_KINDS.filter((k) => k !== "Job" && k !== "CronJob").map((kind) => ({
      title: `a ${kind} labelled migration, its containers and init container without LOCK_TIMEOUT: the rule reads Jobs and CronJobs only`,
      case: {
        id: `not-a-job-${kind.toLowerCase()}`,
        kind,
        change: both(withoutLockTimeout, initWithoutEnv),
      },
    })),
  ],
  waits: [
    {
      title: "an init container's command unknown, without LOCK_TIMEOUT (it may run migrate.sh)",
      case: {
        id: "init-command-unknown",
        kind: "Job",
        change: both((s) => (s.initContainers[0].command = UNKNOWN_STRING), initWithoutEnv),
      },
    },
  ],
});
