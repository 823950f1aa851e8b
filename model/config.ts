/**
 * The stack configuration, validated into one typed EnvironmentConfig. Pure: it sees the raw
 * key/value map the Pulumi engine hands the program (PULUMI_CONFIG) and the list of keys that were
 * encrypted, and returns either the config or every problem at once, one line each.
 *
 * A typo in prod is exactly how environments drift, so an unknown key is an error, not a warning.
 */
import { EnvName, isEnvName, ENVIRONMENTS, Resources } from "./environment";
import { parseParityExceptions, PARITY_EXCEPTIONS_KEY, type ParityException } from "./parity";
import { parseCpu, parseMemory } from "./quantity";
import { sensitiveAssignments } from "./secrets";

export const PROJECT = "env-progression";

/** Config namespaces that belong to providers rather than to this program; passed through. */
const PROVIDER_NAMESPACES = ["kubernetes", "pulumi", "command"];

export type AppSource = "reference" | "image";

export interface FeatureFlags {
  [name: string]: boolean;
}

export interface EnvironmentConfig {
  env: EnvName;
  /** Prefix of every Kubernetes name; the namespace is `${appName}-${env}`. */
  appName: string;
  namespace: string;
  /** "reference": the stock image runs app/server.js from a ConfigMap; "image": the image's own entrypoint. */
  appSource: AppSource;
  image: string;
  containerPort: number;
  /** The release version the workload reports; undefined means "the git commit being deployed". */
  version: string | undefined;
  postgresImage: string;
  replicas: number;
  /** Set: a HorizontalPodAutoscaler scales between `replicas` and this. */
  maxReplicas: number | undefined;
  resources: Resources;
  host: string;
  ingressClassName: string;
  /** Namespaces (by name) allowed to send ingress traffic: the ingress controller's. */
  ingressNamespaces: string[];
  /** CIDRs that pods may reach outside the cluster. Empty: none. */
  egressCidrs: string[];
  featureFlags: FeatureFlags;
  lockTimeout: string;
  statementTimeout: string;
  databaseStorage: string;
  /** Base URL for the smoke tests; defaults to http://<host>. */
  smokeBaseUrl: string | undefined;
  /** A PEM file (relative to the repository) of CAs the smoke tests trust for https. */
  smokeCaFile: string | undefined;
  smokeRequestTimeoutSeconds: number;
  smokeDeadlineSeconds: number;
  /** Any change re-runs the smoke tests on the next `up`. */
  smokeTrigger: string | undefined;
  /** Accepted differences from the environment below, each with a reason and an expiry. */
  parityExceptions: ParityException[];
}

/** Keys whose values must come from encrypted (secret) config. Their values never reach this module. */
export const SECRET_KEYS = {
  dbPassword: { required: true, what: "the PostgreSQL password for this environment" },
  smokeToken: { required: false, what: "a token the smoke tests send to /api/test-action" },
} as const;
export type SecretKey = keyof typeof SECRET_KEYS;

export interface RawConfig {
  /** The stack (environment) name, as in Pulumi.<stack>.yaml. */
  stack: string;
  /** Every config value, keyed "namespace:key", as the engine passes it (objects as JSON text). */
  values: Record<string, string>;
  /** Keys ("namespace:key") whose values were encrypted in the stack file. */
  secretKeys: ReadonlySet<string>;
  /**
   * The file each value came from, keyed "namespace:key" ("Pulumi.yaml" for a project default),
   * so that a problem names the file to edit. A key not listed is blamed on Pulumi.<stack>.yaml.
   */
  sources?: Readonly<Record<string, string>>;
}

export type ConfigResult =
  | { ok: true; config: EnvironmentConfig; secretKeysPresent: SecretKey[] }
  | { ok: false; errors: string[] };

/** Anything with a `test`: a RegExp, or a predicate for what a RegExp cannot say. */
interface Check {
  test(value: string): boolean;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// registry/name[:tag][@sha256:digest], lower-case path components as the distribution spec says.
const IMAGE_REF =
  /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
// PostgreSQL's GUC time units; "0" disables the timeout.
const PG_DURATION = /^(0|[1-9][0-9]*(us|ms|s|min|h|d))$/;
const FLAG = /^([a-z][a-z0-9-]{0,62})=(on|off)$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const CIDR_V4 = /^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\/([0-9]|[12][0-9]|3[0-2])$/;
const CIDR_V6 = /^[0-9a-fA-F:]+\/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8])$/;

/** Longest value a message shows; a longer one is cut, after what must not be shown is taken out. */
const SHOWN_MAX = 60;
// User info runs to the last @ of the value, a query or fragment to its end: a password may hold
// a / ? # ' or a space, and nothing after such a character may slip out.
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[\s\S]*@/i;
const URL_QUERY = /(:\/\/[^?#]*)([?#])[\s\S]*$/;
// user:password@host without a scheme; not an image's name:tag@sha256:<digest>, not a URL's scheme.
const BARE_USERINFO = /(^|[\s"'=,;(])[^\s"'@/:]+:(?!\/\/)[\s\S]*@(?!sha256:)/;

/**
 * A config value as an error message may show it. These messages end up in pulumi's output and
 * in CI logs, so nothing that can carry a credential is repeated:
 * - a value that contains any secret's value, a private key, or an assignment to a sensitive name
 *   (token=…, "password": "…") is not shown at all (`hidden` says why);
 * - in a URL, user:password@ (up to the value's last @) and the query string or fragment (to the
 *   value's end) become "…", leaving scheme, host and path;
 * - so do user:password@ without a scheme, and the credentials of "Bearer …" and "Basic …".
 */
export function redactValue(
  value: string,
  secrets: readonly string[] = [],
): { text: string } | { hidden: string } {
  if (secrets.some((s) => s !== "" && value.includes(s))) {
    return { hidden: "it contains a secret's value" };
  }
  // A JSON text ({"token":"…"}, "\"token=…\"") is also read with its punctuation as line breaks.
  const unquoted = value.replace(/[\\"'[\]{},]/g, "\n");
  const assigns = [value, unquoted].some(
    (t) => sensitiveAssignments(t, "config").length + sensitiveAssignments(t, "command").length > 0,
  );
  if (assigns || /PRIVATE KEY/i.test(value)) return { hidden: "it looks like it holds a credential" };
  const text = value
    .replace(URL_USERINFO, "$1…@")
    .replace(URL_QUERY, "$1$2…")
    .replace(BARE_USERINFO, "$1…@")
    .replace(/\b(bearer|basic)(\s+)\S+/gi, "$1$2…");
  return { text };
}

/**
 * The words that follow a key in a message about its value: `is "<value>"`, redacted as
 * redactValue says, quoted (unless `quoted` is false) and cut at 60 characters; or
 * `holds a value not shown here (<why>)`.
 */
export function shownValue(value: string, secrets: readonly string[] = [], quoted = true): string {
  const r = redactValue(value, secrets);
  if ("hidden" in r) return `holds a value not shown here (${r.hidden})`;
  const cut = r.text.length > SHOWN_MAX ? `${r.text.slice(0, SHOWN_MAX - 3)}...` : r.text;
  return `is ${quoted ? JSON.stringify(cut) : cut}`;
}

export function isDigestPinned(image: string): boolean {
  return /@sha256:[a-f0-9]{64}$/.test(image);
}

/** Reads and checks every key. Each problem is one line naming the file, the key, and what is right. */
export function parseConfig(raw: RawConfig): ConfigResult {
  const file = `Pulumi.${raw.stack}.yaml`;
  const errors: string[] = [];
  const seen = new Set<string>();
  // `resources.requests.cpu` and `featureFlags[0]` live under the key `resources`, `featureFlags`.
  const fileOf = (key: string) => raw.sources?.[`${PROJECT}:${key.split(/[.[]/)[0]}`] ?? file;
  const fail = (key: string, got: string, expected: string) =>
    errors.push(`${fileOf(key)}: ${PROJECT}:${key} ${got}; expected ${expected}.`);
  // Every secret's value, encrypted or not (a secret key in plaintext is still a secret).
  const secretFull = new Set(Object.keys(SECRET_KEYS).map((k) => `${PROJECT}:${k}`));
  const secretValues = Object.entries(raw.values)
    .filter(([k, v]) => (raw.secretKeys.has(k) || secretFull.has(k)) && v !== "")
    .map(([, v]) => v);
  const showsAsIs = (value: string) => {
    const r = redactValue(value, secretValues);
    return "text" in r && r.text === value;
  };
  /** `is "<the value>"` as a message may show it, or why it is not shown (see shownValue). */
  const got = (key: string, value: unknown) =>
    raw.secretKeys.has(`${PROJECT}:${key.split(/[.[]/)[0]}`)
      ? "holds a value not shown here (it is encrypted)"
      : typeof value === "string"
        ? shownValue(value, secretValues)
        : shownValue(String(JSON.stringify(value)), secretValues, false);

  if (!isEnvName(raw.stack)) {
    errors.push(
      `${file}: the stack is named "${raw.stack}"; expected one of ${ENVIRONMENTS.join(", ")} ` +
        `(one stack per environment: pulumi stack init dev).`,
    );
  }

  function rawValue(key: string): string | undefined {
    seen.add(key);
    return raw.values[`${PROJECT}:${key}`];
  }

  function str(key: string, check: Check, expected: string, fallback?: string): string {
    const v = rawValue(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      fail(key, "is missing", `${expected} (pulumi config set ${key} <value> -s ${raw.stack})`);
      return "";
    }
    if (!check.test(v)) fail(key, got(key, v), expected);
    return v;
  }

  function optionalStr(key: string, check: Check, expected: string): string | undefined {
    const v = rawValue(key);
    if (v === undefined) return undefined;
    if (!check.test(v)) fail(key, got(key, v), expected);
    return v;
  }

  function int(key: string, min: number, max: number, fallback?: number): number {
    const v = rawValue(key);
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      fail(key, "is missing", `a whole number from ${min} to ${max}`);
      return min;
    }
    const n = Number(v);
    if (!/^-?[0-9]+$/.test(v.trim()) || !Number.isInteger(n) || n < min || n > max) {
      fail(key, got(key, v), `a whole number from ${min} to ${max}`);
      return min;
    }
    return n;
  }

  function json(key: string, expected: string): unknown {
    const v = rawValue(key);
    if (v === undefined) return undefined;
    try {
      return JSON.parse(v);
    } catch {
      fail(key, got(key, v), expected);
      return undefined;
    }
  }

  function stringList(key: string, check: Check, expected: string, fallback: string[]): string[] {
    const value = json(key, `a YAML list of ${expected}`);
    if (value === undefined) return fallback;
    if (!Array.isArray(value)) {
      fail(key, got(key, JSON.stringify(value)), `a YAML list of ${expected}`);
      return fallback;
    }
    const out: string[] = [];
    value.forEach((item, i) => {
      if (typeof item !== "string" || !check.test(item)) {
        fail(`${key}[${i}]`, got(key, JSON.stringify(item)), expected);
      } else out.push(item);
    });
    return out;
  }

  /**
   * A URL-valued key. Credentials in it would be printed with it (in these errors, in pulumi's
   * output, in the smoke tests' reports), so user:password@ is refused outright, naming the secret
   * they belong in; a query string or fragment is refused too, and neither is ever shown.
   */
  function url(key: string, example: string, credentialsIn: SecretKey): string | undefined {
    const v = rawValue(key);
    if (v === undefined) return undefined;
    const expected = `an http(s) base URL such as ${example}`;
    let parsed: URL | undefined;
    try {
      parsed = new URL(v);
    } catch {
      parsed = undefined;
    }
    // Any @ counts: a password typed with a / or ? in it makes the parser see a host, a port and
    // a path instead (https://deploy:12/x@host), and a base URL has no use for an @ in its path.
    const userinfo =
      (parsed !== undefined && (parsed.username !== "" || parsed.password !== "")) ||
      /:\/\/[\s\S]*@/.test(v);
    if (userinfo) {
      fail(
        key,
        "has a user name or password in it (user:password@), which would be printed with the URL",
        `${expected}, without them: put credentials in ${credentialsIn}, a secret ` +
          `(pulumi config set --secret ${credentialsIn} <value> -s ${raw.stack})`,
      );
    } else if (parsed && (parsed.search !== "" || parsed.hash !== "" || /[?#]/.test(v))) {
      fail(
        key,
        got(key, v),
        `${expected}, without a query string or fragment (the checks' paths are appended to it; ` +
          `a token belongs in ${credentialsIn}, a secret)`,
      );
    } else if (!parsed || !/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(v)) {
      fail(key, got(key, v), expected);
    }
    return v;
  }

  const env = (isEnvName(raw.stack) ? raw.stack : "dev") as EnvName;
  const appName = str("appName", DNS_LABEL, "a DNS label such as app (lower-case letters, digits, '-')", "app");
  if (appName.length > 40) fail("appName", got("appName", appName), "at most 40 characters");
  const appSource = str("appSource", /^(reference|image)$/, `"reference" or "image"`, "reference") as AppSource;
  const image = str("image", IMAGE_REF, "an image reference such as node:24-alpine or registry/name@sha256:<64 hex>");
  const containerPort = int("containerPort", 1024, 65535, 8080);
  const version = optionalStr("version", VERSION, "a release version such as 1.4.2 (letters, digits, . _ + -)");
  const postgresImage = str("postgresImage", IMAGE_REF, "an image reference such as postgres:17-alpine", "postgres:17-alpine");
  const replicas = int("replicas", 0, 1000);
  const maxReplicasRaw = rawValue("maxReplicas");
  const maxReplicas = maxReplicasRaw === undefined ? undefined : int("maxReplicas", 1, 1000);
  if (maxReplicas !== undefined && maxReplicasRaw !== undefined && maxReplicas < replicas) {
    fail("maxReplicas", `is ${maxReplicas}, below replicas (${replicas})`, "a number at least as large as replicas");
  }
  const host = str("host", DNS_NAME, "a DNS host name such as staging.example.com");
  const ingressClassName = str("ingressClassName", DNS_NAME, "an IngressClass name such as nginx", "nginx");
  const ingressNamespaces = stringList(
    "ingressNamespaces",
    DNS_LABEL,
    "namespace names such as ingress-nginx",
    ["ingress-nginx"],
  );
  const egressCidrs = stringList(
    "egressCidrs",
    { test: (s: string) => CIDR_V4.test(s) || CIDR_V6.test(s) },
    "CIDR blocks such as 10.0.0.0/8",
    [],
  );
  const flagList = stringList("featureFlags", FLAG, `flags written name=on or name=off, such as "checkout-v2=on"`, []);
  const featureFlags: FeatureFlags = {};
  for (const entry of flagList) {
    const m = FLAG.exec(entry);
    if (!m || !m[1]) continue;
    if (m[1] in featureFlags) fail("featureFlags", `names ${m[1]} twice`, "each flag once");
    featureFlags[m[1]] = m[2] === "on";
  }
  const lockTimeout = str("lockTimeout", PG_DURATION, `a PostgreSQL duration such as 5s or 500ms ("0" disables it)`, "5s");
  const statementTimeout = str("statementTimeout", PG_DURATION, "a PostgreSQL duration such as 5min", "5min");
  const databaseStorage = str("databaseStorage", /^[0-9]+(Mi|Gi|Ti)$/, "a storage size such as 1Gi", "1Gi");
  const smokeBaseUrl = url("smokeBaseUrl", "https://staging.example.com", "smokeToken");
  // The path is repeated when the file cannot be read, so it must be one that can be shown as is.
  const smokeCaFile = optionalStr(
    "smokeCaFile",
    { test: (s) => /^[^\0]+\.(pem|crt)$/.test(s) && !s.includes("://") && showsAsIs(s) },
    "a path to a PEM file in the repository such as certs/ca.pem",
  );
  const smokeRequestTimeoutSeconds = int("smokeRequestTimeoutSeconds", 1, 600, 10);
  const smokeDeadlineSeconds = int("smokeDeadlineSeconds", 1, 3600, 60);
  if (smokeDeadlineSeconds < smokeRequestTimeoutSeconds) {
    fail(
      "smokeDeadlineSeconds",
      `is ${smokeDeadlineSeconds}, below smokeRequestTimeoutSeconds (${smokeRequestTimeoutSeconds})`,
      "a deadline at least as long as one request's timeout",
    );
  }
  const smokeTrigger = optionalStr("smokeTrigger", /^.{1,200}$/, "any short text; change it to re-run the smoke tests");
  const exceptionsRaw = rawValue(PARITY_EXCEPTIONS_KEY);
  const { exceptions: parityExceptions, errors: exceptionErrors } = parseParityExceptions(exceptionsRaw);
  for (const e of exceptionErrors) errors.push(`${fileOf(PARITY_EXCEPTIONS_KEY)}: ${e}.`);
  const resources = parseResources(json("resources", "a YAML map of requests and limits"), fail, (v) =>
    got("resources", v),
  );

  // Secrets: required ones must be present, and every secret must have been encrypted.
  const secretKeysPresent: SecretKey[] = [];
  for (const [key, spec] of Object.entries(SECRET_KEYS) as [SecretKey, (typeof SECRET_KEYS)[SecretKey]][]) {
    seen.add(key);
    const full = `${PROJECT}:${key}`;
    const present = full in raw.values;
    const how = `pulumi config set --secret ${key} <value> -s ${raw.stack}`;
    if (!present) {
      if (spec.required) errors.push(`${file}: ${full} is missing; it is ${spec.what}, set it with: ${how}.`);
      continue;
    }
    if (!raw.secretKeys.has(full)) {
      // The value itself is never repeated: it is already exposed in the file and should be rotated.
      const from = fileOf(key);
      errors.push(
        `${from}: ${full} is stored in plaintext; it is ${spec.what} and must be encrypted: ` +
          `${from === file ? "" : `remove it from ${from}, `}rotate it, then set it with: ${how}.`,
      );
      continue;
    }
    secretKeysPresent.push(key);
  }

  for (const full of Object.keys(raw.values).sort()) {
    const i = full.indexOf(":");
    const ns = i < 0 ? "" : full.slice(0, i);
    const key = full.slice(i + 1);
    const from = raw.sources?.[full] ?? file;
    if (ns === PROJECT) {
      if (!seen.has(key)) errors.push(unknownKey(from, key, [...seen]));
    } else if (!PROVIDER_NAMESPACES.includes(ns)) {
      errors.push(
        `${from}: ${full} is in namespace "${ns}", which nothing reads; expected ${PROJECT}:<key> ` +
          `or a provider's own namespace (${PROVIDER_NAMESPACES.join(", ")}).`,
      );
    }
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    secretKeysPresent,
    config: {
      env,
      appName,
      namespace: `${appName}-${env}`,
      appSource,
      image,
      containerPort,
      version,
      postgresImage,
      replicas,
      maxReplicas,
      resources: resources as Resources,
      host,
      ingressClassName,
      ingressNamespaces,
      egressCidrs,
      featureFlags,
      lockTimeout,
      statementTimeout,
      databaseStorage,
      smokeBaseUrl,
      smokeCaFile,
      smokeRequestTimeoutSeconds,
      smokeDeadlineSeconds,
      smokeTrigger,
      parityExceptions,
    },
  };
}

function parseResources(
  value: unknown,
  fail: (key: string, got: string, expected: string) => void,
  got: (value: unknown) => string,
): Resources | undefined {
  const example = "requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, memory: 256Mi}";
  if (value === undefined) {
    fail("resources", "is missing", `a map such as {${example}}`);
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("resources", got(value), `a map such as {${example}}`);
    return undefined;
  }
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    if (k !== "requests" && k !== "limits") fail(`resources.${k}`, "is not a known key", "only requests and limits");
  }
  const out: Partial<Resources> = {};
  for (const part of ["requests", "limits"] as const) {
    const spec = v[part];
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
      fail(`resources.${part}`, spec === undefined ? "is missing" : got(spec), "a map with cpu and memory");
      continue;
    }
    const s = spec as Record<string, unknown>;
    for (const k of Object.keys(s)) {
      if (k !== "cpu" && k !== "memory") fail(`resources.${part}.${k}`, "is not a known key", "only cpu and memory");
    }
    const cpu = s.cpu;
    const memory = s.memory;
    if (typeof cpu !== "string" || parseCpu(cpu) === undefined) {
      fail(`resources.${part}.cpu`, cpu === undefined ? "is missing" : got(cpu), "a CPU quantity such as 250m or 1");
    }
    if (typeof memory !== "string" || parseMemory(memory) === undefined) {
      fail(`resources.${part}.memory`, memory === undefined ? "is missing" : got(memory), "a memory quantity such as 256Mi");
    }
    out[part] = { cpu: String(cpu), memory: String(memory) };
  }
  if (out.requests && out.limits) {
    for (const r of ["cpu", "memory"] as const) {
      const parse = r === "cpu" ? parseCpu : parseMemory;
      const req = parse(out.requests[r]);
      const lim = parse(out.limits[r]);
      if (req !== undefined && lim !== undefined && req > lim) {
        fail(`resources.requests.${r}`, `is ${out.requests[r]}, above its limit ${out.limits[r]}`, "a request at most the limit");
      }
    }
  }
  return out.requests && out.limits ? (out as Resources) : undefined;
}

function unknownKey(file: string, key: string, known: string[]): string {
  const close = known
    .map((k) => ({ k, d: editDistance(k.toLowerCase(), key.toLowerCase()) }))
    .filter(({ d }) => d <= 2)
    .sort((a, b) => a.d - b.d)[0];
  const hint = close
    ? `did you mean ${PROJECT}:${close.k}?`
    : `expected one of ${known.sort().join(", ")}.`;
  return `${file}: ${PROJECT}:${key} is not a key of this project; ${hint}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
