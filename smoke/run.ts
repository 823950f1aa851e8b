/**
 * Runs a smoke plan with undici: every check at once over one keep-alive Agent, each request under
 * a timeout, the run under a deadline, transient failures retried with backoff until it. This
 * file is the run and each check's loop; one attempt (a request, its redirects, the response judged
 * against the check) is smoke/attempt.ts.
 *
 * undici is passed in, never imported here at run time: the dynamic provider loads it inside its
 * method (`require("undici")`) because Pulumi serializes the provider's closure, and this module
 * is serialized with it by value. For the same reason the module holds no client and no state.
 */
import { setTimeout as wait } from "node:timers/promises";
import type { Agent, interceptors } from "undici";
import { attempt, NO_RESPONSE } from "./attempt";
import type { Attempt, AttemptContext, Track } from "./attempt";
import { describeExpectation } from "./contract";
import type { CheckSpec } from "./contract";
import type { SmokePlan } from "./plan";
import { redact } from "./report";
import type { CheckResult, SmokeReport } from "./report";
import { nextDelay } from "./retry";

/** The part of undici a run uses: `require("undici")` fits. */
export interface UndiciApi {
  Agent: typeof Agent;
  interceptors: { retry: typeof interceptors.retry };
}

interface RunContext extends AttemptContext {
  secrets: string[];
  state: { deadlineReached: boolean; firstFailure?: string };
}

/**
 * Runs every check of `plan` and reports. Never throws for a failing target: the report says what
 * failed. The Agent it creates is closed before it returns, so nothing keeps the process alive.
 */
export async function runSmoke(plan: SmokePlan, undici: UndiciApi): Promise<SmokeReport> {
  const started = performance.now();
  const timeoutMs = Math.min(plan.requestTimeoutMs, plan.deadlineMs);
  const stop = new AbortController();
  const state: RunContext["state"] = { deadlineReached: false };
  const deadline = setTimeout(() => endAtDeadline({ stop, state }), plan.deadlineMs);

  const agent = new undici.Agent({
    // TLS is always verified: a custom CA replaces the default ones, it never turns checking off.
    connect:
      plan.caPem === undefined ? { timeout: timeoutMs } : { timeout: timeoutMs, ca: plan.caPem },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    maxResponseSize: plan.maxBodyBytes,
    // HTTP/1.1, one connection per check in flight: with h2 allowed, undici opens one connection
    // to learn what the server speaks and only then the others, a round trip more against the
    // many HTTP/1.1 servers (measured: 150 ms instead of 105 ms through a 40 ms RTT proxy).
    allowH2: false,
  });
  // throwOnError: false hands every response the policy does not retry to the check, which then
  // reports its status and body instead of a bare "Request failed".
  const dispatcher = agent.compose(undici.interceptors.retry({ throwOnError: false }));

  const ctx: RunContext = {
    plan,
    dispatcher,
    base: new URL(plan.baseUrl),
    secrets: Object.values(plan.headers),
    requestHeaders: requestHeaders(plan.headers),
    timeoutMs,
    deadlineAtMs: started + plan.deadlineMs,
    stop,
    state,
  };
  let results: CheckResult[];
  try {
    results = await Promise.all(plan.checks.map((check) => runCheck(check, ctx)));
  } finally {
    clearTimeout(deadline);
    await agent.close();
  }
  const ok = results.every((r) => r.ok);
  const versionCheck = plan.checks.findIndex((c) => c.version === true);
  const versionResult = versionCheck >= 0 ? results[versionCheck] : undefined;
  const verified =
    versionResult?.ok === true && typeof versionResult.value === "string"
      ? versionResult.value
      : undefined;
  return {
    ok,
    baseUrl: plan.baseUrl,
    ...(plan.expectVersion === undefined ? {} : { expectVersion: plan.expectVersion }),
    ...(verified === undefined ? {} : { verifiedVersion: verified }),
    elapsedMs: tenths(performance.now() - started),
    deadlineMs: plan.deadlineMs,
    deadlineReached: state.deadlineReached && !ok,
    results,
  };
}

function tenths(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function requestHeaders(extra: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {
    "user-agent": "env-progression-smoke",
    accept: "application/json",
  };
  for (const [name, value] of Object.entries(extra)) {
    for (const key of Object.keys(headers)) if (key === name.toLowerCase()) delete headers[key];
    headers[name] = value;
  }
  return headers;
}

/** A check: attempts until one passes, one fails for good, or the deadline. */
async function runCheck(check: CheckSpec, ctx: RunContext): Promise<CheckResult> {
  const track: Track = { requests: 0 };
  const expected = describeExpectation(check, ctx.plan.expectVersion);
  const startUrl = new URL(ctx.plan.baseUrl.replace(/\/+$/, "") + check.path);
  let last: Attempt | undefined;
  // Each pass returns, or waits on the schedule, which has no room left at the deadline.
  for (;;) {
    if (!ctx.stop.signal.aborted) {
      last = await attempt(check, startUrl, ctx, track);
      if (last.pass) {
        return {
          name: check.name,
          ok: true,
          outcome: "passed",
          method: check.method,
          url: last.url,
          status: last.status,
          latencyMs: tenths(last.latencyMs),
          attempts: track.requests,
          expected,
          ...(last.value === undefined ? {} : { value: last.value }),
        };
      }
    }
    if (ctx.stop.signal.aborted)
      return stopped(check, startUrl, ctx, track.requests, expected, last);
    if (last === undefined || last.pass || !last.transient) {
      // Failed for good: the run's verdict is known, the other checks are cancelled.
      ctx.state.firstFailure ??= check.name;
      ctx.stop.abort(
        Object.assign(new Error(`${check.name} failed`), { code: "SMOKE_CHECK_FAILED" }),
      );
      return failed(check, ctx, track.requests, expected, last);
    }
    track.lastTransient = last.got;
    if (last.status !== undefined) track.lastStatus = last.status;
    const delay = nextDelay(track.requests, performance.now(), ctx.deadlineAtMs);
    if (delay === undefined) {
      // No room for another attempt: the deadline has come for every check.
      endAtDeadline(ctx);
      return stopped(check, startUrl, ctx, track.requests, expected, last);
    }
    await sleep(delay, ctx.stop.signal);
  }
}

function endAtDeadline(ctx: Pick<RunContext, "stop" | "state">): void {
  if (ctx.stop.signal.aborted) return;
  ctx.state.deadlineReached = true;
  ctx.stop.abort(Object.assign(new Error("smoke deadline reached"), { code: "SMOKE_DEADLINE" }));
}

function failed(
  check: CheckSpec,
  ctx: RunContext,
  attempts: number,
  expected: string,
  last: Attempt | undefined,
): CheckResult {
  const got = last === undefined || last.pass ? "no answer" : last.got;
  return {
    name: check.name,
    ok: false,
    outcome: "failed",
    method: check.method,
    url: last?.url ?? check.path,
    ...(last?.status === undefined ? {} : { status: last.status }),
    latencyMs: tenths(last?.latencyMs ?? 0),
    attempts,
    expected,
    got: redact(got, ctx.secrets),
    transient: last !== undefined && !last.pass && last.transient,
  };
}

/** A check the run stopped: at the deadline it failed; after another check failed it is cancelled. */
function stopped(
  check: CheckSpec,
  startUrl: URL,
  ctx: RunContext,
  attempts: number,
  expected: string,
  last: Attempt | undefined,
): CheckResult {
  if (ctx.state.deadlineReached) {
    const seconds = ctx.plan.deadlineMs / 1000;
    const failure: Attempt =
      last === undefined || last.pass || last.got === NO_RESPONSE
        ? {
            pass: false,
            transient: true,
            got: `no response before the deadline (${seconds} s)`,
            latencyMs: last?.latencyMs ?? 0,
            url: last?.url ?? startUrl.href,
          }
        : { ...last, got: `${last.got}, still failing at the deadline (${seconds} s)` };
    return failed(check, ctx, attempts, expected, failure);
  }
  return {
    name: check.name,
    ok: false,
    outcome: "cancelled",
    method: check.method,
    url: startUrl.href,
    latencyMs: 0,
    attempts,
    expected,
    got: `not finished: stopped after ${ctx.state.firstFailure ?? "another check"} failed`,
  };
}

/** Waits `ms`, or less when the run is stopped. */
async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await wait(ms, undefined, { signal }).catch(() => undefined);
}
