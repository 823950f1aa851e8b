/**
 * How one attempt of a check ended: one request and its same-origin redirects, under undici's
 * retry interceptor for what fails before a response is delivered, then the response judged
 * against the check.
 *
 * Like smoke/run.ts, which calls it, this module is serialized by value with the dynamic provider:
 * it holds no client and no state, and undici reaches it only as the run's dispatcher.
 */
import type { Dispatcher, RetryHandler } from "undici";
import type { CheckSpec, JsonScalar } from "./contract";
import {
  classifyError,
  classifyStatus,
  TRANSIENT_ERROR_CODES,
  TRANSIENT_STATUS_CODES,
} from "./failures";
import { MAX_REDIRECTS } from "./plan";
import type { SmokePlan } from "./plan";
import { snippet } from "./report";
import { nextDelay } from "./retry";

type Body = Dispatcher.ResponseData["body"];

/** What an attempt reads of its run. */
export interface AttemptContext {
  plan: SmokePlan;
  dispatcher: Dispatcher;
  base: URL;
  requestHeaders: Record<string, string>;
  timeoutMs: number;
  deadlineAtMs: number;
  /** Aborted at the deadline, or when a check has failed for good. */
  stop: AbortController;
}

/** How one attempt (one request and its same-origin redirects) ended. */
export type Attempt =
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
export interface Track {
  requests: number;
  lastTransient?: string;
  lastStatus?: number;
}

/** What an attempt the run stopped reports when nothing transient was seen before. */
export const NO_RESPONSE = "no response";

/**
 * The retry policy undici's retry interceptor runs for this request: connection errors, timeouts
 * and 502/503/504 are retried until the deadline, on the check's schedule (the wait grows with the
 * requests the check has made, whichever layer retried them). Once the response has been handed
 * over (`phase.delivered`) it never retries: a failure in the body is the check's to retry.
 */
function retryPolicy(ctx: AttemptContext, phase: { delivered: boolean }, track: Track) {
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
export async function attempt(
  check: CheckSpec,
  startUrl: URL,
  ctx: AttemptContext,
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
