/**
 * What an environment is. Plain types and constants, no Pulumi resources: the program, the policy
 * pack and the tools all read this one model.
 */

/** The environments, lowest first. Promotion and parity follow this order. */
export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type EnvName = (typeof ENVIRONMENTS)[number];

export function isEnvName(value: string): value is EnvName {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}

/** The environment a stack is compared with for parity: prod with staging, staging with dev. */
export function environmentBelow(env: EnvName): EnvName | undefined {
  const i = ENVIRONMENTS.indexOf(env);
  return i > 0 ? ENVIRONMENTS[i - 1] : undefined;
}

// Type aliases, not interfaces: Kubernetes' resource maps are index signatures, and only an alias
// is assignable to one.
export type ResourceSpec = {
  cpu: string;
  memory: string;
};

export type Resources = {
  requests: ResourceSpec;
  limits: ResourceSpec;
};

/** The stack outputs every environment exports; the pipeline and the policies read them by name. */
export const OUTPUTS = {
  namespace: "namespace",
  url: "url",
  release: "release",
  /** What the smoke tests verified on the last successful `up`: the release to roll back to. */
  verifiedRelease: "verifiedRelease",
  /** The parity baseline the environment above is compared with (policy config). */
  parityBaseline: "parityBaseline",
} as const;

/** The release an environment runs. `image` is what promotion carries from one stack to the next. */
export interface Release {
  /** The version the workload reports at /api/version. */
  version: string;
  /** The git commit the program was deployed from, or "unknown" outside a git checkout. */
  commit: string;
  /** The workload image, by digest outside dev. */
  image: string;
}
