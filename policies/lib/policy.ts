/**
 * Small builders over @pulumi/policy so that each policy file is only its rule: which resource
 * types it reads, and what it reports.
 */
import type {
  EnforcementLevel,
  PolicyConfigSchema,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { KubeResource } from "../../model/resources";
import { fromArgs, fromStackResource, surfaceUnknown } from "./resources";

/** A finding of a check: the message, and optionally the URN it is about (stack policies). */
export interface Finding {
  message: string;
  urn?: string;
}

/** What a check returns: findings, and the property paths it could not read (unknown in preview). */
export interface CheckResult {
  findings: Finding[];
  unknown: string[][];
}

export function result(): CheckResult {
  return { findings: [], unknown: [] };
}

interface ResourcePolicyArgs {
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  /** The exact type tokens this policy reads (others are "not applicable"), or every type. */
  types: readonly string[] | "all";
  /** May return a promise: the server awaits it (the secret policy waits on scrypt). */
  check: (r: KubeResource, args: ResourceValidationArgs) => CheckResult | Promise<CheckResult>;
  configSchema?: ResourceValidationPolicy["configSchema"];
}

/**
 * A resource policy. Known values are all checked; then, if some check had to skip an unknown
 * value, that value is read through the SDK's proxy so it reports its usual preview advisory.
 */
export function resourcePolicy(a: ResourcePolicyArgs): ResourceValidationPolicy {
  const types = a.types === "all" ? undefined : new Set(a.types);
  const validate = async (args: ResourceValidationArgs, report: ReportViolation): Promise<void> => {
    if (types !== undefined && !types.has(args.type)) {
      args.notApplicable(`Policy only applies to ${[...types].join(", ")}`);
      return;
    }
    const res = await a.check(fromArgs(args), args);
    for (const f of res.findings) report(f.message);
    if (res.unknown.length > 0) surfaceUnknown(args.props, res.unknown);
  };
  // As validateResourceOfType does: with one type, the server skips other resources without a call.
  if (types !== undefined && types.size === 1)
    (validate as unknown as { __pulumiType: string }).__pulumiType = [...types][0] as string;
  return {
    name: a.name,
    description: a.description,
    enforcementLevel: a.enforcementLevel,
    ...(a.configSchema ? { configSchema: a.configSchema } : {}),
    validateResource: validate,
  };
}

/** An unknown value met by a stack policy: which resource, which path. */
export interface StackUnknown {
  urn: string;
  path: string[];
}

interface StackPolicyArgs {
  name: string;
  description: string;
  enforcementLevel: EnforcementLevel;
  check: (
    resources: KubeResource[],
    args: StackValidationArgs,
  ) => { findings: Finding[]; unknown: StackUnknown[] };
  configSchema?: StackValidationPolicy["configSchema"];
}

export function stackPolicy(a: StackPolicyArgs): StackValidationPolicy {
  return {
    name: a.name,
    description: a.description,
    enforcementLevel: a.enforcementLevel,
    ...(a.configSchema ? { configSchema: a.configSchema } : {}),
    validateStack: (args: StackValidationArgs, report: ReportViolation): void => {
      const resources = args.resources.map(fromStackResource);
      const res = a.check(resources, args);
      for (const f of res.findings) report(f.message, f.urn);
      if (res.unknown.length > 0) {
        const byUrn = new Map(args.resources.map((r) => [r.urn, r]));
        for (const u of res.unknown) surfaceUnknown(byUrn.get(u.urn)?.props, [u.path]);
      }
    },
  };
}

/** The policy config schema of policies that compare with the environment below. */
export const BASELINE_SCHEMA: PolicyConfigSchema = {
  properties: {
    baseline: {
      type: "object",
      description: "The parityBaseline stack output of the environment below (model/parity.ts).",
    },
  },
};

/** The parity policy also takes the stack's exceptions, when the engine does not pass its config. */
export const PARITY_SCHEMA: PolicyConfigSchema = {
  properties: {
    ...BASELINE_SCHEMA.properties,
    exceptions: {
      type: "array",
      description:
        "The stack's env-progression:parityExceptions; by default read from the stack config the engine passes (PULUMI_CONFIG).",
    },
  },
};

/** The secret policy also takes the baselines of the environments further down. */
export const LOWER_BASELINES_SCHEMA: PolicyConfigSchema = {
  properties: {
    ...BASELINE_SCHEMA.properties,
    lowerBaselines: {
      type: "array",
      description:
        "The parityBaseline outputs of the environments below the one below (prod: dev's).",
    },
  },
};
