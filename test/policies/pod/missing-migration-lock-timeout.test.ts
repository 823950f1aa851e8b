/**
 * missing-migration-lock-timeout: outside dev, the container of a migration Job or CronJob runs
 * with a PostgreSQL lock_timeout of at most one minute, from LOCK_TIMEOUT or else PGOPTIONS.
 * Dev, other components and other kinds are left alone, and so is an init container: migrate.sh
 * runs as the Job's container.
 */
import { COMPONENT_LABEL, ENVIRONMENT_LABEL } from "../../../model/workload";
import { NAME } from "../../../policies/missing-migration-lock-timeout";
import { ALL_KINDS, describePodPolicy, type PodCase } from "./workloads";

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
  (...changes: NonNullable<PodCase["change"]>[]) =>
  (s: any, t: any) =>
    changes.forEach((c) => c(s, t));

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
        change: (s, t) => {
          t.metadata.labels[ENVIRONMENT_LABEL] = "dev";
          withoutLockTimeout(s);
        },
      },
      expect: [/migration container migrate sets no lock_timeout .* in prod/],
    },
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
      title: "an init container without LOCK_TIMEOUT",
      case: {
        id: "init-without-lock-timeout",
        kind: "CronJob",
        change: (s) => (s.initContainers[0].env = []),
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
        change: (s, t) => {
          t.metadata.labels[COMPONENT_LABEL] = "report";
          withoutLockTimeout(s);
        },
      },
    },
    ...ALL_KINDS.filter((k) => k !== "Job" && k !== "CronJob").map((kind) => ({
      title: `a ${kind} labelled migration: the rule reads Jobs and CronJobs only`,
      case: { id: `not-a-job-${kind.toLowerCase()}`, kind, change: withoutLockTimeout },
    })),
  ],
});
