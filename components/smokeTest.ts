import * as pulumi from "@pulumi/pulumi";
import { randomUUID } from "node:crypto";
import { SMOKE_COMPONENT_TYPE, SMOKE_RUN } from "../model/smoke";
import { CONTRACT_CHECKS } from "../smoke/contract";
import type { CheckSpec } from "../smoke/contract";
import { headersFingerprint, newSalt, settingsFingerprint } from "../smoke/fingerprint";
import { checksProblems, DEFAULTS, planProblems } from "../smoke/plan";
import type { SmokePlan } from "../smoke/plan";
import { formatFailure, redact } from "../smoke/report";
import type { SmokeReport } from "../smoke/report";
import { runSmoke } from "../smoke/run";
import type { UndiciApi } from "../smoke/run";

export interface SmokeTestArgs {
  /** Where the workload answers, e.g. "https://staging.example.com". */
  baseUrl: pulumi.Input<string>;
  /** The release being deployed: /api/version must report it. */
  expectVersion?: pulumi.Input<string>;
  /** Sent with every check, e.g. a token for the test action. Values are always kept secret. */
  headers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** CA certificates (PEM) to trust for https instead of the default ones. */
  caPem?: pulumi.Input<string>;
  /** Connect, headers and body of each request, each within this. Default 10. */
  requestTimeoutSeconds?: number;
  /** The whole run, retries included. Default 60. */
  deadlineSeconds?: number;
  /** Any change re-runs the checks. */
  trigger?: pulumi.Input<string>;
  /**
   * What the workload runs (a fingerprint of its pod template): a new rollout re-runs the checks,
   * even when the version it reports is the same (a new image of one version).
   */
  rollout?: pulumi.Input<string>;
  /** The checks to run. Default: the smoke contract (docs/smoke.md). */
  checks?: CheckSpec[];
}

/** One check's result, as the stack records it. */
export interface CheckOutcome {
  name: string;
  ok: boolean;
  latencyMs: number;
  status: number;
}

/** What the dynamic provider is given (secrets arrive in plaintext: the host unwraps them). */
interface SmokeRunInputs {
  baseUrl: string;
  expectVersion?: string;
  checks: CheckSpec[];
  headers?: Record<string, string>;
  caPem?: string;
  requestTimeoutMs: number;
  deadlineMs: number;
  trigger?: string;
  rollout?: string;
}

/**
 * What the state keeps: enough for `diff` to see a change, and the results. No header value and no
 * CA bundle: the settings and the headers are kept as fingerprints (smoke/fingerprint.ts).
 */
interface SmokeRunOutputs {
  baseUrl: string;
  expectVersion?: string;
  trigger?: string;
  rollout?: string;
  settingsFingerprint: string;
  headersSalt: string;
  headersFingerprint: string;
  verifiedVersion: string;
  results: CheckOutcome[];
  verifiedAt: string;
}

/**
 * The engine's placeholder for a value not known until apply (preview), from the SDK. Read once
 * at module level: the serialized provider captures this string by value, so the provider text
 * still does not load the SDK.
 */
const UNKNOWN: string = pulumi.runtime.unknownValue;

function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (typeof value === "object" && value !== null)
    return Object.values(value).some(containsUnknown);
  return false;
}

function planFrom(inputs: SmokeRunInputs): SmokePlan {
  return {
    baseUrl: inputs.baseUrl,
    checks: inputs.checks,
    ...(inputs.expectVersion === undefined ? {} : { expectVersion: inputs.expectVersion }),
    headers: inputs.headers ?? {},
    ...(inputs.caPem === undefined ? {} : { caPem: inputs.caPem }),
    requestTimeoutMs: inputs.requestTimeoutMs,
    deadlineMs: inputs.deadlineMs,
    maxBodyBytes: DEFAULTS.maxBodyBytes,
  };
}

function settingsOf(inputs: SmokeRunInputs): string {
  return settingsFingerprint({
    checks: inputs.checks,
    requestTimeoutMs: inputs.requestTimeoutMs,
    deadlineMs: inputs.deadlineMs,
    ...(inputs.caPem === undefined ? {} : { caPem: inputs.caPem }),
    headerNames: Object.keys(inputs.headers ?? {}),
  });
}

/** Runs the checks; a failed run throws its report, which fails `pulumi up`. */
async function verify(inputs: SmokeRunInputs, undici: UndiciApi): Promise<SmokeRunOutputs> {
  const plan = planFrom(inputs);
  const secrets = Object.values(plan.headers);
  const problems = planProblems(plan);
  if (problems.length > 0)
    throw new Error(`smoke test settings are invalid: ${problems.join("; ")}`);
  let report: SmokeReport;
  try {
    report = await runSmoke(plan, undici);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(
      redact(`smoke tests could not run against ${plan.baseUrl}: ${message}`, secrets),
    );
  }
  if (!report.ok) throw new Error(redact(formatFailure(report), secrets));
  const salt = newSalt();
  return {
    baseUrl: inputs.baseUrl,
    ...(inputs.expectVersion === undefined ? {} : { expectVersion: inputs.expectVersion }),
    ...(inputs.trigger === undefined ? {} : { trigger: inputs.trigger }),
    ...(inputs.rollout === undefined ? {} : { rollout: inputs.rollout }),
    settingsFingerprint: settingsOf(inputs),
    headersSalt: salt,
    headersFingerprint: headersFingerprint(salt, plan.headers),
    verifiedVersion: report.verifiedVersion ?? "",
    results: report.results.map((r) => ({
      name: r.name,
      ok: r.ok,
      latencyMs: Math.round(r.latencyMs),
      status: r.status ?? 0,
    })),
    verifiedAt: new Date().toISOString(),
  };
}

/**
 * Serialized into the state by Pulumi (closure serialization): the smoke/ modules it uses are
 * copied in by value, and undici is required inside each method, so the text runs wherever the
 * dynamic-provider host loads it. Nothing here may hold a client or a secret at module level.
 */
const smokeProvider: pulumi.dynamic.ResourceProvider<SmokeRunInputs, SmokeRunOutputs> = {
  async check(_olds, news) {
    const known = (value: unknown): boolean => !containsUnknown(value);
    const plan = planFrom(news);
    const problems = planProblems(plan).filter((p) => {
      const field = /^[A-Za-z]+/.exec(p)?.[0] ?? "";
      return known((plan as unknown as Record<string, unknown>)[field]);
    });
    return {
      inputs: news,
      failures: problems.map((reason) => ({
        property: /^[A-Za-z]+/.exec(reason)?.[0] ?? "",
        reason,
      })),
    };
  },

  // Runs nothing, ever: during preview it only decides whether `up` will run the checks.
  async diff(_id, olds, news) {
    if (containsUnknown(news)) return { changes: true };
    const changes =
      news.baseUrl !== olds.baseUrl ||
      (news.expectVersion ?? "") !== (olds.expectVersion ?? "") ||
      (news.trigger ?? "") !== (olds.trigger ?? "") ||
      (news.rollout ?? "") !== (olds.rollout ?? "") ||
      settingsOf(news) !== olds.settingsFingerprint ||
      typeof olds.headersSalt !== "string" ||
      headersFingerprint(olds.headersSalt, news.headers ?? {}) !== olds.headersFingerprint;
    return { changes };
  },

  async create(inputs) {
    const undici = require("undici") as typeof import("undici");
    const outs = await verify(inputs, undici);
    return { id: `smoke-${randomUUID()}`, outs };
  },

  async update(_id, _olds, news) {
    const undici = require("undici") as typeof import("undici");
    return { outs: await verify(news, undici) };
  },
};

/** The dynamic resource: one run of the checks, re-run when `diff` says so. */
class SmokeRun extends pulumi.dynamic.Resource {
  // `declare`: a class field would overwrite, after super(), the Outputs the engine resolves.
  declare public readonly verifiedVersion: pulumi.Output<string>;
  declare public readonly results: pulumi.Output<CheckOutcome[]>;

  constructor(name: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
    super(
      smokeProvider,
      name,
      { ...props, verifiedVersion: undefined, results: undefined },
      opts,
      SMOKE_RUN.module,
      SMOKE_RUN.type,
    );
  }
}

function positiveSeconds(field: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new Error(
      `SmokeTest: ${field} must be a positive number of seconds, got ${String(value)}`,
    );
  }
  return v;
}

/**
 * Runs the smoke contract against an environment after its rollout; a failure fails `pulumi up`,
 * so the next environment is never deployed. Give it `dependsOn` the workload and its Ingress:
 * it is forwarded to the run, which only starts once they are ready.
 */
export class SmokeTest extends pulumi.ComponentResource {
  /** What /api/version reported on the last successful run. */
  public readonly verifiedVersion: pulumi.Output<string>;
  /** Per check: name, ok, latency and status of the last successful run. */
  public readonly checks: pulumi.Output<CheckOutcome[]>;

  constructor(name: string, args: SmokeTestArgs, opts?: pulumi.ComponentResourceOptions) {
    const requestTimeoutSeconds = positiveSeconds(
      "requestTimeoutSeconds",
      args.requestTimeoutSeconds,
      DEFAULTS.requestTimeoutMs / 1000,
    );
    const deadlineSeconds = positiveSeconds(
      "deadlineSeconds",
      args.deadlineSeconds,
      DEFAULTS.deadlineMs / 1000,
    );
    const checks = (args.checks ?? CONTRACT_CHECKS).map((c) => ({ ...c }));
    const problems = checksProblems("checks", checks);
    if (problems.length > 0) throw new Error(`SmokeTest ${name}: ${problems.join("; ")}`);
    super(SMOKE_COMPONENT_TYPE, name, {}, opts);

    const run = new SmokeRun(
      `${name}-run`,
      {
        baseUrl: args.baseUrl,
        expectVersion: args.expectVersion,
        checks,
        // Secret whatever the caller passed, so the state holds the inputs encrypted.
        headers: pulumi.secret(args.headers ?? {}),
        caPem: args.caPem,
        requestTimeoutMs: Math.round(requestTimeoutSeconds * 1000),
        deadlineMs: Math.round(deadlineSeconds * 1000),
        trigger: args.trigger,
        rollout: args.rollout,
      },
      {
        parent: this,
        // A component's dependsOn does not reach its children: the run must wait for the rollout.
        dependsOn: opts?.dependsOn,
        additionalSecretOutputs: ["headersSalt", "headersFingerprint"],
      },
    );
    this.verifiedVersion = run.verifiedVersion;
    this.checks = run.results;
    this.registerOutputs({ verifiedVersion: this.verifiedVersion, checks: this.checks });
  }
}
