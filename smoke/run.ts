/**
 * Runs a smoke plan with undici: every check at once over one keep-alive Agent, each request under
 * a timeout, the run under a deadline, transient failures retried with backoff until it.
 *
 * undici is passed in, never imported here at run time: the dynamic provider loads it inside its
 * method (`require("undici")`) because Pulumi serializes the provider's closure, and this module
 * is serialized with it by value. For the same reason the module holds no client and no state.
 */
import { setTimeout as wait } from "node:timers/promises";
import type { Agent, Dispatcher, RetryHandler, interceptors } from "undici";
import { describeExpectation } from "./contract";
import type { CheckSpec, JsonScalar } from "./contract";
import {
  classifyError,
  classifyStatus,
  TRANSIENT_ERROR_CODES,
  TRANSIENT_STATUS_CODES,
} from "./failures";
import { MAX_REDIRECTS } from "./plan";
import type { SmokePlan } from "./plan";
import { redact, snippet } from "./report";
import type { CheckResult, SmokeReport } from "./report";
import { nextDelay } from "./retry";

/** The part of undici a run uses: `require("undici")` fits. */
export interface UndiciApi {
  Agent: typeof Agent;
  interceptors: { retry: typeof interceptors.retry };
}

type Body = Dispatcher.ResponseData["body"];

interface RunContext {
  plan: SmokePlan;
  dispatcher: Dispatcher;
  base: URL;
  secrets: string[];
  requestHeaders: Record<string, string>;
  timeoutMs: number;
  deadlineAtMs: number;
  /** Aborted at the deadline, or when a check has failed for good. */
  stop: AbortController;
  state: { deadlineReached: boolean; firstFailure?: string };
}

/** How one attempt (one request and its same-origin redirects) ended. */
type Attempt =
  | { pass: true; status: number; latencyMs: number; value?: JsonScalar; url: string }
  | {
      pass: false;
      transient: boolean;
      got: string;
      status?: number;
      latencyMs: number;
      url: string;
    };

const REDIRECT_STATUSES = [301, 302, 303, 307, 308];

/** Per check: requests made, and the last transient failure seen by either retry layer. */
interface Track {
  requests: number;
  lastTransient?: string;
  lastStatus?: number;
}

const NO_RESPONSE = "no response";

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

/**
 * The retry policy undici's retry interceptor runs for this request: connection errors, timeouts
 * and 502/503/504 are retried until the deadline, on the check's schedule (the wait grows with the
 * requests the check has made, whichever layer retried them). Once the response has been handed
 * over (`phase.delivered`) it never retries: a failure in the body is the check's to retry.
 */
function retryPolicy(ctx: RunContext, phase: { delivered: boolean }, track: Track) {
  return (err: Error, _context: unknown, callback: (result?: Error | null) => void) => {
    const e = err as Error & { statusCode?: unknown; code?: unknown };
    const transient =
      typeof e.statusCode === "number"
        ? TRANSIENT_STATUS_CODES.includes(e.statusCode)
        : typeof e.code === "string" && TRANSIENT_ERROR_CODES.includes(e.code);
    const delay =
      transient && !phase.delivered && !ctx.stop.signal.aborted
        ? nextDelay(track.requests, performance.now(), ctx.deadlineAtMs)
        : undefined;
    if (delay === undefined) {
      callback(err);
      return undefined;
    }
    if (typeof e.statusCode === "number") {
      track.lastTransient = classifyStatus(e.statusCode, "").text;
      track.lastStatus = e.statusCode;
    } else {
      track.lastTransient = classifyError(err, ctx.timeoutMs).text;
    }
    // Returned so that the retry handler can cancel the wait when the run is stopped.
    return setTimeout(() => {
      track.requests++;
      callback(null);
    }, delay);
  };
}

/** Reads a body to the end, within the request timeout as a whole (bodyTimeout is per chunk). */
async function readText(body: Body, timeoutMs: number): Promise<string> {
  const timer = setTimeout(
    () =>
      body.destroy(
        Object.assign(new Error("response body not complete in time"), {
          code: "SMOKE_BODY_TIMEOUT",
        }),
      ),
    timeoutMs,
  );
  try {
    return await body.text();
  } finally {
    clearTimeout(timer);
  }
}

function fieldOf(json: unknown, path: string): unknown {
  let value: unknown = json;
  for (const key of path.split(".")) {
    if (
      typeof value !== "object" ||
      value === null ||
      !Object.prototype.hasOwnProperty.call(value, key)
    )
      return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function isScalar(value: unknown): value is JsonScalar {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

/** One request, following redirects within the base URL's origin. */
async function attempt(
  check: CheckSpec,
  startUrl: URL,
  ctx: RunContext,
  track: Track,
): Promise<Attempt> {
  let url = startUrl;
  let method: string = check.method;
  let body = check.body;
  for (let hop = 0; ; hop++) {
    const phase = { delivered: false };
    const began = performance.now();
    const headers = { ...ctx.requestHeaders };
    if (body !== undefined) headers["content-type"] = "application/json";
    const options: Dispatcher.RequestOptions & { retryOptions: RetryHandler.RetryOptions } = {
      origin: url.origin,
      path: url.pathname + url.search,
      method: method as Dispatcher.HttpMethod,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: ctx.stop.signal,
      retryOptions: { retry: retryPolicy(ctx, phase, track) },
    };
    track.requests++;
    let res: Dispatcher.ResponseData;
    try {
      res = await ctx.dispatcher.request(options);
    } catch (err) {
      if (ctx.stop.signal.aborted) return interrupted(track, began, url);
      return failure(classifyError(err, ctx.timeoutMs), began, url, undefined);
    }
    phase.delivered = true;
    const status = res.statusCode;
    try {
      const location = res.headers.location;
      if (REDIRECT_STATUSES.includes(status) && typeof location === "string") {
        await readText(res.body, ctx.timeoutMs);
        const target = new URL(location, url);
        // Never across origins: the extra headers may carry credentials.
        if (target.origin !== ctx.base.origin) {
          return fatal(
            `redirect ${status} to another origin (${target.origin}${target.pathname}), not followed`,
            began,
            url,
            status,
          );
        }
        if (hop >= MAX_REDIRECTS)
          return fatal(`more than ${MAX_REDIRECTS} redirects`, began, url, status);
        if (status === 303 || ((status === 301 || status === 302) && method === "POST")) {
          method = "GET";
          body = undefined;
        }
        url = target;
        continue;
      }
      if (status < 200 || status >= 300) {
        const text = await readText(res.body, ctx.timeoutMs);
        const kind = classifyStatus(status, res.statusText);
        const shown = snippet(text);
        return failure(
          { ...kind, text: shown === "" ? kind.text : `${kind.text}: ${shown}` },
          began,
          url,
          status,
        );
      }
      if (check.field === undefined) {
        await readText(res.body, ctx.timeoutMs);
        return { pass: true, status, latencyMs: performance.now() - began, url: url.href };
      }
      const text = await readText(res.body, ctx.timeoutMs);
      const latencyMs = performance.now() - began;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        const type = res.headers["content-type"];
        return fatal(
          `${status} with a body that is not JSON (${typeof type === "string" ? type : "no content-type"}): ${snippet(text) || "(empty)"}`,
          began,
          url,
          status,
        );
      }
      const value = fieldOf(json, check.field);
      if (value === undefined || value === null) {
        return fatal(`${status} without .${check.field}: ${snippet(text)}`, began, url, status);
      }
      if (check.version === true) {
        if (typeof value !== "string" || value === "") {
          return fatal(
            `${status} with .${check.field} = ${snippet(JSON.stringify(value))}, not a version string`,
            began,
            url,
            status,
          );
        }
        const expect = ctx.plan.expectVersion;
        if (expect !== undefined && value !== expect) {
          // An older release still answering while endpoints propagate: retried until the deadline.
          const text = `${status} with .${check.field} = ${JSON.stringify(value)} (another release answering)`;
          return failure({ transient: true, text }, began, url, status);
        }
        return { pass: true, status, latencyMs, value, url: url.href };
      }
      if (check.equals !== undefined && value !== check.equals) {
        return fatal(
          `${status} with .${check.field} = ${snippet(JSON.stringify(value))}: ${snippet(text)}`,
          began,
          url,
          status,
        );
      }
      return {
        pass: true,
        status,
        latencyMs,
        url: url.href,
        ...(isScalar(value) ? { value } : {}),
      };
    } catch (err) {
      if (ctx.stop.signal.aborted) return interrupted(track, began, url);
      return failure(classifyError(err, ctx.timeoutMs), began, url, status);
    } finally {
      // A body left unread would hold its connection and keep agent.close() waiting.
      if (!res.body.destroyed && !res.body.readableEnded) res.body.destroy();
    }
  }
}

function failure(
  kind: { transient: boolean; text: string },
  began: number,
  url: URL,
  status: number | undefined,
): Attempt {
  return {
    pass: false,
    transient: kind.transient,
    got: kind.text,
    latencyMs: performance.now() - began,
    url: url.href,
    ...(status === undefined ? {} : { status }),
  };
}

/** An attempt the run stopped: it reports the last transient failure, which is what kept it going. */
function interrupted(track: Track, began: number, url: URL): Attempt {
  return failure(
    { transient: true, text: track.lastTransient ?? NO_RESPONSE },
    began,
    url,
    track.lastStatus,
  );
}

function fatal(text: string, began: number, url: URL, status: number): Attempt {
  return failure({ transient: false, text }, began, url, status);
}
