/**
 * What every workload of an environment looks like, as plain data: labels, the restricted security
 * context, probes, and the namespace's quota. Components turn these into resources; policies check
 * resources against the same rules.
 */
import type { EnvironmentConfig } from "./config/environmentConfig";
import type { EnvName, Resources } from "./environment";
import { formatCpu, formatMemory, parseCpu, parseMemory } from "./quantity";

export const ENVIRONMENT_LABEL = "env-progression/environment";
export const RELEASE_COMMIT_ANNOTATION = "env-progression/release-commit";
export const RELEASE_VERSION_ANNOTATION = "env-progression/release-version";
export const COMPONENT_LABEL = "app.kubernetes.io/component";
/** Components (label `app.kubernetes.io/component`) whose ConfigMaps parity reads. */
export const WORKLOAD_COMPONENT = "web";
export const MIGRATION_COMPONENT = "migration";
/** The ConfigMap key the workload reads its feature flags from (components/workload.ts). */
export const FLAGS_FILE_KEY = "flags.json";

/** The UID of the `node` user in the node images and of `postgres` in the postgres alpine images. */
export const APP_UID = 1000;
export const POSTGRES_UID = 70;

/** Database sizing: the same in every environment, so a migration behaves the same everywhere. */
export const DATABASE_RESOURCES: Resources = {
  requests: { cpu: "100m", memory: "256Mi" },
  limits: { cpu: "1", memory: "1Gi" },
};
export const MIGRATION_RESOURCES: Resources = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { cpu: "500m", memory: "256Mi" },
};

/** The app container, its port's name, and the environment variables it gets: one definition for
 * the component that creates them and the parity check that compares them. */
export const APP_CONTAINER = "app";
export const APP_PORT_NAME = "http";
export const APP_ENV_NAMES = ["PORT", "APP_ENV", "APP_VERSION", "RELEASE_COMMIT", "DB_HOST", "DB_PORT", "FLAGS_FILE"];

export const DATABASE_NAME = "app";
export const DATABASE_USER = "app";
export const DATABASE_PORT = 5432;

export function commonLabels(appName: string, env: EnvName, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": appName,
    [COMPONENT_LABEL]: component,
    "app.kubernetes.io/part-of": "env-progression",
    "app.kubernetes.io/managed-by": "pulumi",
    [ENVIRONMENT_LABEL]: env,
  };
}

/** Pod Security Standards labels: enforce "restricted", and audit and warn at the same level. */
export function podSecurityLabels(): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/audit-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/warn-version": "latest",
  };
}

export function podSecurityContext(uid: number) {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** The "restricted" container controls, plus a read-only root filesystem. */
export function containerSecurityContext(uid: number) {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Readiness gates traffic, liveness restarts a wedged process; both on the contract's /healthz. */
export function httpProbes(portName: string) {
  const probe = { httpGet: { path: "/healthz", port: portName } };
  return {
    readinessProbe: { ...probe, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
    livenessProbe: { ...probe, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
  };
}

export interface Quota {
  pods: number;
  requestsCpu: string;
  requestsMemory: string;
  limitsCpu: string;
  limitsMemory: string;
}

/**
 * The namespace's ResourceQuota, derived from what the environment runs so it cannot drift from
 * it: the app at its peak plus a rolling update's surge, the database, and one migration Job.
 */
export function quotaFor(config: Pick<EnvironmentConfig, "replicas" | "maxReplicas" | "resources">): Quota {
  const peak = config.maxReplicas ?? config.replicas;
  const appPods = peak + Math.max(1, Math.ceil(peak * 0.25));
  const parts: [number, Resources][] = [
    [appPods, config.resources],
    [1, DATABASE_RESOURCES],
    [1, MIGRATION_RESOURCES],
  ];
  const sum = (pick: (r: Resources) => string, parse: (s: string) => number | undefined) =>
    parts.reduce((total, [count, r]) => total + count * (parse(pick(r)) ?? 0), 0);
  return {
    pods: appPods + 2,
    requestsCpu: formatCpu(sum((r) => r.requests.cpu, parseCpu)),
    requestsMemory: formatMemory(sum((r) => r.requests.memory, parseMemory)),
    limitsCpu: formatCpu(sum((r) => r.limits.cpu, parseCpu)),
    limitsMemory: formatMemory(sum((r) => r.limits.memory, parseMemory)),
  };
}

/** PostgreSQL options for the migration: fail fast on a lock instead of queueing every query behind it. */
export function migrationPgOptions(lockTimeout: string, statementTimeout: string): string {
  return `-c lock_timeout=${lockTimeout} -c statement_timeout=${statementTimeout}`;
}
