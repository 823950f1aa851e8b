/**
 * What one smoke run is given, with its defaults and its validation. The CLI and the dynamic
 * resource's `check` report the same problems, each naming the field, never a header's value.
 */
import type { CheckSpec } from "./contract";

export interface SmokePlan {
  /** `http(s)://host[:port][/prefix]`; the checks' paths are appended to it. */
  baseUrl: string;
  checks: CheckSpec[];
  /** The release being deployed: the version check must report it. */
  expectVersion?: string;
  /** Sent with every request, to the base URL's origin only. Values are treated as secrets. */
  headers: Record<string, string>;
  /** Trusted CA certificates (PEM) for https, instead of the default ones. */
  caPem?: string;
  /** Connect, response headers, and the whole response body: each within this. */
  requestTimeoutMs: number;
  /** The whole run, retries included. */
  deadlineMs: number;
  /** Response bodies are read up to this many bytes. */
  maxBodyBytes: number;
}

/**
 * 10 s per request, as Argo Rollouts' web metric and Flagger's webhooks default to; 60 s for the
 * run. undici's own defaults (300 s for headers and for body) are far too long for a smoke test.
 */
export const DEFAULTS = {
  requestTimeoutMs: 10_000,
  deadlineMs: 60_000,
  maxBodyBytes: 1024 * 1024,
} as const;

/** Same-origin redirects followed per request; redirects to another origin never are. */
export const MAX_REDIRECTS = 5;

/** RFC 9110 token: what a header name may contain. */
function isToken(name: string): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name);
}

/** Header names undici or HTTP/1.1 manage themselves, or that would change the request's meaning. */
const RESERVED_HEADERS: readonly string[] = [
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "upgrade",
  "keep-alive",
  "expect",
];

function isSecondsLike(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value > 0;
}

/** Problems with a base URL, naming `field`. */
export function baseUrlProblems(field: string, value: unknown): string[] {
  if (typeof value !== "string" || value === "")
    return [`${field} must be a URL, like https://staging.example.com`];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [
      `${field} is not a URL: ${JSON.stringify(value)} (expected e.g. https://staging.example.com)`,
    ];
  }
  const problems: string[] = [];
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    problems.push(`${field} must start with http:// or https://, got ${url.protocol}`);
  }
  // Credentials in the URL would be printed with it: they belong in a secret header.
  if (url.username !== "" || url.password !== "") {
    problems.push(`${field} must not carry credentials; send them as a secret header instead`);
  }
  if (url.search !== "" || url.hash !== "") {
    problems.push(
      `${field} must not have a query or a fragment: the checks' paths are appended to it`,
    );
  }
  return problems;
}

/** What a header value must not hold (RFC 9110 field-value: visible characters, space, tab). */
export const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Problems with extra request headers. The message names the header, never its value. */
export function headerProblems(field: string, headers: unknown): string[] {
  if (headers === undefined) return [];
  if (typeof headers !== "object" || headers === null || Array.isArray(headers)) {
    return [`${field} must be an object of header name -> value`];
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!isToken(name))
      problems.push(`${field}: ${JSON.stringify(name)} is not a valid header name`);
    else if (RESERVED_HEADERS.includes(lower))
      problems.push(`${field}: ${name} is managed by the client and cannot be set`);
    else if (seen.has(lower)) problems.push(`${field}: ${name} is given twice`);
    seen.add(lower);
    if (typeof value !== "string") problems.push(`${field}.${name} must be a string`);
    else if (CONTROL.test(value))
      problems.push(`${field}.${name} must not contain control characters (a tab is allowed)`);
  }
  return problems;
}

/** Problems with a list of checks. */
export function checksProblems(field: string, checks: unknown): string[] {
  if (!Array.isArray(checks) || checks.length === 0)
    return [`${field} must be a non-empty list of checks`];
  const problems: string[] = [];
  const names = new Set<string>();
  let versionChecks = 0;
  checks.forEach((raw: unknown, i) => {
    const at = `${field}[${i}]`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      problems.push(`${at} must be an object with name, method and path`);
      return;
    }
    const c = raw as Record<string, unknown>;
    if (typeof c.name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9#._-]*$/.test(c.name)) {
      problems.push(`${at}.name must be a word of letters, digits, #, ., _ or -`);
    } else if (names.has(c.name)) {
      problems.push(`${at}.name ${JSON.stringify(c.name)} is used twice`);
    } else {
      names.add(c.name);
    }
    if (c.method !== "GET" && c.method !== "HEAD" && c.method !== "POST") {
      problems.push(`${at}.method must be GET, HEAD or POST`);
    }
    if (typeof c.path !== "string" || !c.path.startsWith("/") || /[\s#]/.test(c.path)) {
      problems.push(`${at}.path must start with / and hold no spaces or #`);
    }
    if (c.body !== undefined) {
      if (typeof c.body !== "string") problems.push(`${at}.body must be a string of JSON`);
      else {
        try {
          JSON.parse(c.body);
        } catch {
          problems.push(`${at}.body is not JSON`);
        }
      }
    }
    if (
      c.field !== undefined &&
      (typeof c.field !== "string" || !/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/.test(c.field))
    ) {
      problems.push(`${at}.field must be a dot path like version or db.connected`);
    }
    if (c.equals !== undefined) {
      const t = typeof c.equals;
      if (c.equals !== null && t !== "string" && t !== "number" && t !== "boolean") {
        problems.push(`${at}.equals must be a string, number, boolean or null`);
      }
      if (c.field === undefined) problems.push(`${at}.equals needs a field to compare`);
    }
    if (c.version !== undefined) {
      if (typeof c.version !== "boolean") problems.push(`${at}.version must be true or false`);
      if (c.version === true) {
        versionChecks++;
        if (c.field === undefined)
          problems.push(`${at}.version needs the field that holds the version`);
      }
    }
  });
  if (versionChecks > 1) problems.push(`${field}: only one check may report the version`);
  return problems;
}

/** Every problem with a plan; empty when it can run. */
export function planProblems(plan: Partial<SmokePlan>): string[] {
  const problems = [
    ...baseUrlProblems("baseUrl", plan.baseUrl),
    ...checksProblems("checks", plan.checks),
    ...headerProblems("headers", plan.headers),
  ];
  if (
    plan.expectVersion !== undefined &&
    (typeof plan.expectVersion !== "string" || plan.expectVersion === "")
  ) {
    problems.push("expectVersion must be a non-empty string when given");
  }
  if (
    plan.caPem !== undefined &&
    (typeof plan.caPem !== "string" || !plan.caPem.includes("-----BEGIN CERTIFICATE-----"))
  ) {
    problems.push("caPem must hold PEM certificates (-----BEGIN CERTIFICATE-----)");
  }
  if (!isSecondsLike(plan.requestTimeoutMs))
    problems.push("requestTimeoutMs must be a positive number");
  if (!isSecondsLike(plan.deadlineMs)) problems.push("deadlineMs must be a positive number");
  if (!isSecondsLike(plan.maxBodyBytes) || !Number.isInteger(plan.maxBodyBytes)) {
    problems.push("maxBodyBytes must be a positive integer");
  }
  return problems;
}

/**
 * Parses one `Name: value` header line, as curl's `-H` takes it. Returns the problem instead when
 * the line is malformed; the problem never quotes the value.
 */
export function parseHeaderLine(
  line: string,
): { name: string; value: string } | { problem: string } {
  const colon = line.indexOf(":");
  if (colon <= 0) return { problem: "--header must look like 'Name: value'" };
  const name = line.slice(0, colon).trim();
  const value = line.slice(colon + 1).trim();
  if (!isToken(name))
    return { problem: `--header name ${JSON.stringify(name)} is not a valid header name` };
  return { name, value };
}
